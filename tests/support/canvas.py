"""Draw on the page's #draw-canvas as a person does: press, drag along a stroke, release. Used by the
browser tests and scripts/screenshot.py (Playwright pages)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Stroke = Sequence[tuple[float, float]]   # points in canvas fractions (0..1), x to the right, y down


def draw_strokes(page: Any, strokes: Sequence[Stroke], steps: int = 2) -> None:
    """Drag the mouse along each stroke over #draw-canvas, with `steps` mouse moves between two points
    (more: smoother, slower)."""
    box = page.locator("#draw-canvas").bounding_box()
    if box is None:
        raise RuntimeError("the page has no visible #draw-canvas to draw on")
    for stroke in strokes:
        points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y, steps=steps)
        page.mouse.up()
