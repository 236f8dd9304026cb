"""Ink on a photographed sheet: flatten the light, pick the ink, keep the digit (NumPy + Pillow).

A photo of paper is reflectance times light. The light changes across the sheet (a lamp on one side,
a shadow band), so one grey level cannot tell ink from paper. We estimate the paper's own brightness
everywhere (a closing: take the brightest nearby value, which steps over pen strokes, then the
darkest of those, which puts shadow edges back where they were; then blur) and divide by it, which
leaves the ink's darkness relative to the paper around it. A threshold chosen from that image
(Otsu's, floored above the paper's noise) marks the ink; its largest connected piece inside the frame
(not touching its edge, where a desk, the sheet's edge or a shadow's corner shows), with the pieces
near it (a 5's hat, a 4 written in two strokes), is the digit.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from .decode import EmptyDrawingError
from .pieces import digit_mask

FLAT_SHARE = 0.5       # a drawing: at least half its pixels within FLAT_TOLERANCE of the border's level
FLAT_TOLERANCE = 3
GRID_SIDE = 160        # the paper's brightness is estimated on a grid this many cells along the longer side
CLOSING_CELLS = 7      # ... stepping over dark marks up to 7 cells wide (about 4% of the longer side)
MIN_DARKNESS = 0.15    # ink takes at least 15% off the paper's brightness
NOISE_SIGMAS = 5.0     # ... and stands at least this many noise deviations above the paper
LIGHT_TAIL = 1.7       # light ink: its tail at least this many times the dark one
MIN_SIDE, MIN_AREA = 12, 30   # the digit's pieces span at least 12 px and hold 30 px of ink (specks do not)
EDGE_SHARE = 0.1       # a mark at the frame's edge, if no other, must span 10% of its shorter side
BRIDGE = 5             # pieces closer than this many px are one
FRINGE = 5             # the digit's pixels grown by 2 px: a stroke's soft edge is below the cut
PEAK_SHARE = 90        # the ink's darkness at this percentile of the digit's pixels reads as full ink


def is_flat(grey: np.ndarray, border_level: int) -> bool:
    """Return whether the background is one grey level (a canvas drawing, a scan), not a photo's."""
    sample = grey[::3, ::3]   # a share, so every third pixel of every third row tells it as well
    near = np.abs(sample.astype(np.int16) - border_level) <= FLAT_TOLERANCE
    return float(near.mean()) >= FLAT_SHARE


def ink_is_dark(grey: np.ndarray) -> bool:
    """Return whether the ink is darker than the paper. Ink is the rare mark that stands out from its
    surroundings: its side of the difference from a blurred copy has the long tail (a shadow may cover
    most of the sheet and its border, so the border cannot tell). A blank sheet's two tails are about
    alike, and paper is far more often written on in dark ink: light ink must show a clearly longer tail."""
    small = Image.fromarray(grey).reduce(2)
    local = np.asarray(small.filter(ImageFilter.GaussianBlur(8)), np.int16)
    low, high = np.percentile(np.asarray(small, np.int16) - local, [0.1, 99.9])
    return bool(high < LIGHT_TAIL * -low)


def _shifted_extreme(a: np.ndarray, size: int, pick) -> np.ndarray:
    """Return the running max (pick=np.maximum) or min of a over size x size windows, the image
    mirrored at its edges."""
    r = size // 2
    padded = np.pad(a, r, mode="reflect")
    rows = padded[:, r:r + a.shape[1]].copy()
    for d in range(-r, r + 1):
        pick(rows, padded[:, r + d:r + d + a.shape[1]], out=rows)
    out = rows[r:r + a.shape[0]].copy()
    for d in range(-r, r + 1):
        pick(out, rows[r + d:r + d + a.shape[0]], out=out)
    return out


def paper_brightness(grey: np.ndarray) -> np.ndarray:
    """Return the paper's brightness under each pixel (h, w) float32, with the ink stepped over."""
    h, w = grey.shape
    cell = max(1, -(-max(h, w) // GRID_SIDE))
    gh, gw = -(-h // cell), -(-w // cell)
    padded = np.pad(grey, ((0, gh * cell - h), (0, gw * cell - w)), mode="edge")
    # The brightest pixel of each cell: a cell that holds any paper shows the paper.
    grid = padded.reshape(gh, cell, gw, cell).max(axis=(1, 3))
    closed = _shifted_extreme(_shifted_extreme(grid, CLOSING_CELLS, np.maximum), CLOSING_CELLS, np.minimum)
    smooth = Image.fromarray(closed).filter(ImageFilter.GaussianBlur(1.0)).convert("F")
    return np.asarray(smooth.resize((w, h), Image.Resampling.BILINEAR), np.float32)


def darkness(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """Return how much each pixel takes off the paper's brightness around it (h, w) float32 in 0..1
    (0 = paper, 1 = black), and the paper's noise in the same units; grey is paper-light, ink dark."""
    paper = paper_brightness(grey)
    ratio = grey.astype(np.float32) / np.maximum(paper, 1.0)
    # The paper is nearly all of the image, so a share of its pixels gives its level and its noise.
    sample = ratio[::3, ::3]
    level = max(float(np.median(sample)), 1e-3)   # the cell max reads the paper a little high: level it
    ratio /= level
    noise = 1.4826 * float(np.median(np.abs(sample / level - 1.0)))
    return np.clip(1.0 - ratio, 0.0, 1.0), noise


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """Return Otsu's threshold for values in 0..1: the cut that maximises the between-class variance."""
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    p = counts.astype(np.float64) / max(1, counts.sum())
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    w1, total = 1.0 - w0, m0[-1]
    between = np.where((w0 > 0) & (w1 > 0), (total * w0 - m0) ** 2 / np.maximum(w0 * w1, 1e-12), 0.0)
    return float(edges[int(np.argmax(between)) + 1])


def ink_threshold(dark: np.ndarray, noise: float) -> float:
    """Return the darkness above which a pixel is ink: Otsu's cut over the pixels that stand clear of
    the paper's noise (so the paper, nearly all of a photo, does not pull the cut into its own grain)."""
    floor = max(MIN_DARKNESS, NOISE_SIGMAS * noise)
    candidates = dark[dark > floor]
    if candidates.size == 0:
        raise EmptyDrawingError()
    return max(floor, otsu(candidates))


def photo_ink(grey: np.ndarray, noise_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the digit's ink (float32 0..1, 1 = full ink) cropped to its box, with every other mark
    cleared, and the whole image's ink (h, w) for display. Raises EmptyDrawingError without ink."""
    dark, noise = darkness(grey if ink_is_dark(grey) else 255 - grey)
    cut = ink_threshold(dark, noise)
    ink_pixels = dark > cut
    # Pieces are found with the ink grown by BRIDGE // 2 px, so a stroke broken by the threshold, or a
    # dashed line (the sheet's edge over a grained desk), is one piece.
    bridged = _shifted_extreme(ink_pixels.astype(np.uint8), BRIDGE, np.maximum) > 0
    mask = digit_mask(bridged, dark, MIN_SIDE, EDGE_SHARE * min(grey.shape))
    if mask is None:
        raise EmptyDrawingError()
    mask &= ink_pixels
    if mask.sum() < MIN_AREA:
        raise EmptyDrawingError()
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 < MIN_SIDE:
        raise EmptyDrawingError()
    peak = float(np.percentile(dark[mask], PEAK_SHARE))
    margin = FRINGE // 2
    top, left = max(rows[0] - margin, 0), max(cols[0] - margin, 0)
    box = np.s_[top:rows[-1] + margin + 1, left:cols[-1] + margin + 1]
    grown = _shifted_extreme(mask[box].astype(np.uint8), FRINGE, np.maximum) > 0
    ink = np.clip(dark[box] / peak, 0.0, 1.0) * grown
    ink[ink < noise_level] = 0
    return ink.astype(np.float32), dark
