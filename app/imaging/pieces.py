"""The digit among the marks on a sheet: connected pieces of ink, the largest and those near it (NumPy).

Pieces are found on runs (a row's unbroken stretch of ink), not pixels: a digit is a few hundred runs,
so joining runs that touch (8-connected: a run touches the runs of the next row that overlap it or
meet it at a corner) costs a few array operations, not a loop over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEAR = 0.3         # a piece whose box comes within 30% of the digit's size of the digit's box is part of it
MIN_PIECE = 0.04   # ... if it holds at least 4% of the largest piece's ink: specks and grain do not


@dataclass(frozen=True)
class Runs:
    row: np.ndarray     # (n,) each run's row
    start: np.ndarray   # (n,) first column
    end: np.ndarray     # (n,) one past the last column
    piece: np.ndarray   # (n,) the piece (0..pieces-1) each run belongs to


def runs_of(mask: np.ndarray) -> Runs:
    """Return the runs of a boolean mask (h, w), each labelled with its connected piece."""
    h, w = mask.shape
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)   # (h, w + 1)
    row, start = np.nonzero(edges == 1)
    end = np.nonzero(edges == -1)[1]
    n = row.size
    # Runs of row r - 1 that touch run b of row r form one contiguous stretch, found by binary search
    # on keys that sort runs by (row, column).
    stride = w + 2
    start_key, end_key = row * stride + start, row * stride + end
    above = (row - 1) * stride
    first = np.searchsorted(end_key, above + start, "left")
    last = np.searchsorted(start_key, above + end, "right") - 1
    count = np.maximum(last - first + 1, 0)
    b = np.repeat(np.arange(n), count)
    a = np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    return Runs(row, start, end, _pieces(n, a, b))


def _pieces(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the connected piece of each of n nodes joined by the edges (a, b), numbered 0.. in order."""
    parent = np.arange(n)
    while True:
        pa, pb = parent[a], parent[b]
        differ = pa != pb
        if not differ.any():
            break
        # Hook the larger root under the smaller, then point everyone straight at their root.
        np.minimum.at(parent, np.maximum(pa, pb)[differ], np.minimum(pa, pb)[differ])
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return np.unique(parent, return_inverse=True)[1]


def _ink_and_boxes(runs: Runs, weight: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Return each piece's ink (weight summed over its pixels) and its box (top, bottom, left, right),
    inclusive."""
    # Each run's ink from running sums along its row (only the rows that hold ink are summed).
    rows = np.unique(runs.row)
    sums = np.pad(np.cumsum(weight[rows], axis=1, dtype=np.float64), ((0, 0), (1, 0)))
    at = np.searchsorted(rows, runs.row)
    ink = np.bincount(runs.piece, sums[at, runs.end] - sums[at, runs.start])
    k = ink.size
    top, bottom = np.full(k, weight.shape[0]), np.full(k, -1)
    left, right = np.full(k, weight.shape[1]), np.full(k, -1)
    np.minimum.at(top, runs.piece, runs.row)
    np.maximum.at(bottom, runs.piece, runs.row)
    np.minimum.at(left, runs.piece, runs.start)
    np.maximum.at(right, runs.piece, runs.end - 1)
    return ink, (top, bottom, left, right)


def digit_mask(mask: np.ndarray, weight: np.ndarray, min_side: int = 1,
               edge_min: float = 0.0) -> np.ndarray | None:
    """Return the pixels of the digit (h, w) bool, or None if there is none: the piece with the most
    ink (weight summed over its pixels) and every piece near it that is not a speck. The digit is a
    mark inside the frame (spanning min_side px or more); only when there is none can it be a mark
    touching the frame's edge, and then one that spans edge_min px (a tight crop of a digit)."""
    runs = runs_of(mask)
    if runs.row.size == 0:
        return None
    ink, (top, bottom, left, right) = _ink_and_boxes(runs, weight)
    k = ink.size
    h, w = mask.shape
    span = np.maximum(bottom - top, right - left) + 1
    # A desk or the sheet's edge in the frame, or a shadow's corner, touches the frame's edge.
    at_edge = (top == 0) | (left == 0) | (bottom == h - 1) | (right == w - 1)
    allowed = ~at_edge if (~at_edge & (span >= min_side)).any() else ~at_edge | (span >= edge_min)
    ink = np.where(allowed, ink, 0.0)
    main = int(np.argmax(ink))
    if ink[main] <= 0:
        return None
    chosen = np.zeros(k, bool)
    chosen[main] = True
    reach = NEAR * max(bottom[main] - top[main], right[main] - left[main]) + 1
    box = [top[main], bottom[main], left[main], right[main]]
    while True:
        gap = np.maximum.reduce([top - box[1], box[0] - bottom, left - box[3], box[2] - right])
        joining = ~chosen & (gap <= reach) & (ink >= MIN_PIECE * ink[main])
        if not joining.any():
            break
        chosen |= joining
        box = [min(box[0], top[joining].min()), max(box[1], bottom[joining].max()),
               min(box[2], left[joining].min()), max(box[3], right[joining].max())]
    keep = chosen[runs.piece]
    steps = np.zeros((box[1] - box[0] + 1, w + 1), np.int8)   # +1 where a kept run starts, -1 past its end
    np.add.at(steps, (runs.row[keep] - box[0], runs.start[keep]), 1)
    np.add.at(steps, (runs.row[keep] - box[0], runs.end[keep]), -1)
    out = np.zeros(mask.shape, bool)
    out[box[0]:box[1] + 1] = np.cumsum(steps, axis=1)[:, :-1] > 0
    return out
