"""Drawn-style digits: pen strokes rendered the way a person draws on a canvas or on paper.

Each digit has one or more hand-written skeletons (strokes of control points in a unit box, x to
the right and y down); a sample jitters the points, smooths them (Catmull-Rom), slants, rotates,
sizes and places the digit at random, and draws it with a round pen of random thickness, as dark ink
on light paper, light ink on a dark board, or dark ink on a transparent canvas.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280
Stroke = tuple[bool, list[tuple[float, float]]]   # (smooth?, control points)

S, P = True, False  # smooth curve through the points, or straight segments (sharp corners)
SKELETONS: dict[int, list[list[Stroke]]] = {
    0: [[(S, [(0.5, 0), (0.2, 0.13), (0.06, 0.5), (0.2, 0.87), (0.5, 1), (0.8, 0.87), (0.94, 0.5),
              (0.8, 0.13), (0.5, 0), (0.32, 0.06)])]],
    1: [[(P, [(0.5, 0), (0.5, 1)])],
        [(P, [(0.25, 0.2), (0.55, 0), (0.55, 1)])],
        [(P, [(0.3, 0.18), (0.55, 0), (0.55, 1)]), (P, [(0.3, 1), (0.8, 1)])]],
    2: [[(S, [(0.1, 0.25), (0.3, 0.03), (0.6, 0), (0.86, 0.2), (0.8, 0.45), (0.45, 0.75), (0.08, 1)]),
         (P, [(0.08, 1), (0.95, 0.98)])],
        [(S, [(0.12, 0.2), (0.5, 0), (0.85, 0.22), (0.6, 0.6), (0.15, 0.95), (0.25, 0.9)]),
         (S, [(0.15, 0.95), (0.55, 0.97), (0.95, 0.95)])]],
    3: [[(S, [(0.12, 0.12), (0.45, 0), (0.8, 0.1), (0.82, 0.3), (0.42, 0.47)]),
         (S, [(0.42, 0.47), (0.85, 0.6), (0.86, 0.85), (0.5, 1), (0.1, 0.88)])]],
    4: [[(P, [(0.62, 0), (0.04, 0.66), (0.96, 0.66)]), (P, [(0.68, 0.3), (0.68, 1)])],
        [(P, [(0.15, 0), (0.1, 0.58), (0.92, 0.58)]), (P, [(0.72, 0.05), (0.72, 1)])]],
    5: [[(P, [(0.88, 0), (0.25, 0), (0.2, 0.45)]),
         (S, [(0.2, 0.45), (0.5, 0.36), (0.84, 0.52), (0.86, 0.8), (0.55, 1), (0.1, 0.9)])]],
    6: [[(S, [(0.78, 0), (0.42, 0.16), (0.18, 0.48), (0.14, 0.8), (0.4, 1), (0.76, 0.94), (0.86, 0.72),
              (0.6, 0.52), (0.3, 0.56), (0.16, 0.72)])]],
    7: [[(P, [(0.08, 0), (0.92, 0), (0.42, 1)])],
        [(P, [(0.08, 0.05), (0.92, 0), (0.42, 1)]), (P, [(0.38, 0.52), (0.82, 0.5)])],
        [(P, [(0.05, 0.1), (0.1, 0), (0.92, 0)]), (S, [(0.92, 0), (0.6, 0.45), (0.45, 1)])]],
    8: [[(S, [(0.8, 0.12), (0.5, 0), (0.2, 0.12), (0.25, 0.35), (0.5, 0.48), (0.8, 0.66), (0.82, 0.88),
              (0.5, 1), (0.18, 0.88), (0.2, 0.66), (0.5, 0.48), (0.75, 0.35), (0.8, 0.12)])]],
    9: [[(S, [(0.84, 0.22), (0.55, 0.01), (0.2, 0.1), (0.16, 0.36), (0.45, 0.5), (0.84, 0.3)]),
         (P, [(0.84, 0.18), (0.8, 1)])],
        [(S, [(0.84, 0.22), (0.55, 0.01), (0.2, 0.1), (0.16, 0.36), (0.45, 0.5), (0.84, 0.3)]),
         (S, [(0.84, 0.18), (0.8, 0.7), (0.55, 1)])]],
}


def catmull_rom(points: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """Return a smooth curve through the points (end points repeated so the curve reaches them)."""
    p = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    out.append(points[-1:])
    return np.vstack(out)


def place(strokes: list[np.ndarray], rng: np.random.Generator, digit: int) -> tuple[list[np.ndarray], float]:
    """Return the strokes slanted, rotated, scaled and moved onto the canvas, and the pen width."""
    shear = rng.uniform(-0.15, 0.4)           # most people slant to the right
    angle = math.radians(rng.uniform(-10, 10))
    height = rng.uniform(70, 240)
    width = height * (0.12 if digit == 1 else rng.uniform(0.55, 0.85))
    pen = rng.uniform(6, min(28, height / 6))
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = []
    for s in strokes:
        xy = np.column_stack([(s[:, 0] - 0.5) * width + shear * (0.5 - s[:, 1]) * height,
                              (s[:, 1] - 0.5) * height])
        moved.append(xy @ rot.T)
    allpts = np.vstack(moved)
    lo, hi = allpts.min(0) - pen, allpts.max(0) + pen
    span = hi - lo
    scale = min(1.0, (CANVAS - 4) / span.max())  # keep it on the canvas
    offset = np.array([rng.uniform(2, max(2, CANVAS - 2 - span[0] * scale)),
                       rng.uniform(2, max(2, CANVAS - 2 - span[1] * scale))])
    return [(m - lo) * scale + offset for m in moved], pen * scale


def render(digit: int, rng: np.random.Generator) -> Image.Image:
    """Return one drawn digit on a 280x280 canvas (mode L, RGBA or RGB)."""
    skeleton = SKELETONS[digit][rng.integers(len(SKELETONS[digit]))]
    strokes = []
    for smooth, pts in skeleton:
        pts = np.array(pts, float) + rng.normal(0, 0.025, (len(pts), 2))  # a hand is never exact
        strokes.append(catmull_rom(pts) if smooth else pts)
    strokes, pen = place(strokes, rng, digit)
    style = rng.integers(3)
    if style == 0:    # pen on paper
        image, ink = Image.new("L", (CANVAS, CANVAS), int(rng.integers(200, 256))), int(rng.integers(0, 60))
    elif style == 1:  # chalk on a board
        image, ink = Image.new("L", (CANVAS, CANVAS), int(rng.integers(0, 50))), int(rng.integers(200, 256))
    else:             # a transparent canvas, as a browser's toDataURL() gives it
        image, ink = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0)), (20, 30, 90, 255)
    draw = ImageDraw.Draw(image)
    r = pen / 2
    for s in strokes:
        draw.line([tuple(p) for p in s], fill=ink, width=max(1, round(pen)), joint="curve")
        for x, y in (s[0], s[-1]):  # round pen tips
            draw.ellipse([x - r, y - r, x + r, y + r], fill=ink)
    return image


def drawn_set(n_per_digit: int, seed: int = 0) -> list[tuple[int, bytes]]:
    """Return [(label, PNG bytes)] with n_per_digit drawings of each digit."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_per_digit * 10):
        digit = i % 10
        buf = io.BytesIO()
        render(digit, rng).save(buf, "PNG")
        out.append((digit, buf.getvalue()))
    return out


def contact_sheet(samples: list[tuple[int, bytes]], columns: int = 20, cell: int = 70) -> Image.Image:
    """Return a grid of the drawings (transparent ones shown on grey) for a person to look at."""
    rows = -(-len(samples) // columns)
    sheet = Image.new("RGB", (columns * cell, rows * cell), (128, 128, 128))
    for i, (_, data) in enumerate(samples):
        image = Image.open(io.BytesIO(data)).convert("RGBA")
        tile = Image.alpha_composite(Image.new("RGBA", image.size, (160, 160, 160, 255)), image)
        corner = ((i % columns) * cell, (i // columns) * cell)
        sheet.paste(tile.convert("RGB").resize((cell - 2, cell - 2)), corner)
    return sheet


if __name__ == "__main__":  # python -m tests.support.drawn sheet.png: look at what the test draws
    import sys
    contact_sheet(drawn_set(25, seed=2026)).save(sys.argv[1] if len(sys.argv) > 1 else "drawn-digits.png")
