"""The first-layer maps the layered story hopes for: small edges and loops, as 28x28 weight maps;
and what a network's hidden neurons, of any layer, actually look for in pixels.

Each map is positive (+1) on its stroke and negative just around it, so a neuron with these weights
would fire for ink exactly there and not for a smear. Drawn from geometry, not learnt.
"""

from __future__ import annotations

import numpy as np

SIDE = 28
_ys, _xs = np.mgrid[0:SIDE, 0:SIDE] + 0.5


def _segment_distance(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Return each pixel's distance to the segment (x0, y0)-(x1, y1)."""
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((_xs - x0) * dx + (_ys - y0) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(_xs - (x0 + t * dx), _ys - (y0 + t * dy))


def _ring_distance(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """Return roughly each pixel's distance to an ellipse's outline."""
    r = np.hypot((_xs - cx) / rx, (_ys - cy) / ry)
    return np.abs(r - 1) * min(rx, ry)


def _detector(distance: np.ndarray, width: float = 1.3, surround: float = 2.6) -> np.ndarray:
    """Return +1 on the stroke, -0.5 in a band around it, 0 further out."""
    w = np.where(distance <= width, 1.0, 0.0)
    return w - 0.5 * ((distance > width) & (distance <= width + surround))


SHAPES = {
    "top loop": lambda: _detector(_ring_distance(14, 9.5, 5, 4.5)),
    "bottom loop": lambda: _detector(_ring_distance(14, 18.5, 5.5, 4.5)),
    "left vertical edge": lambda: _detector(_segment_distance(9, 6, 9, 14)),
    "right vertical edge": lambda: _detector(_segment_distance(19, 14, 19, 22)),
    "top bar": lambda: _detector(_segment_distance(8, 6, 20, 6)),
    "middle bar": lambda: _detector(_segment_distance(9, 14, 19, 14)),
    "rising diagonal": lambda: _detector(_segment_distance(10, 22, 18, 8)),
    "long vertical": lambda: _detector(_segment_distance(14, 5, 14, 23)),
}


def ideal_maps() -> tuple[list[str], np.ndarray]:
    """Return (names, maps (k, 784)) of the hoped-for edge and loop detectors."""
    names = list(SHAPES)
    return names, np.stack([SHAPES[n]().ravel() for n in names]).astype(np.float32)


def pixel_maps(W: list[np.ndarray], layer: int) -> np.ndarray:
    """Return what each neuron of hidden layer `layer` (1 = first) looks for in pixels: its weights
    composed with the earlier layers' (row j of W[layer-1] @ ... @ W[0]), shape (neurons, 784).
    The sigmoids between the layers are left out, so it is a linear reading of the neuron, the way
    the video pictures the second layer: a weighted sum of the first layer's maps."""
    maps = np.asarray(W[0], np.float64)
    for k in range(1, layer):
        maps = np.asarray(W[k], np.float64) @ maps
    return maps
