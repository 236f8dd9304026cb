"""Toy cost landscapes for the downhill lessons: one input, then two, each with several valleys.

Gradient descent here is exactly the network's rule, on a function you can see whole:
x <- x - learning_rate * slope(x). The step is proportional to the slope, so it shrinks by itself
as the ground flattens near a valley floor, and a large rate overshoots, or diverges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# f(x) = x^4/40 - x^2/2 + x/5 + 0.55 sin(2.4 x) + 3 on [-5, 5]: a quartic bowl with ripples, so
# three valleys of different depths and a wall on each side that throws a too-large step outward.
X_RANGE = (-5.0, 5.0)
ESCAPE_1D = 50.0          # |x| beyond this counts as diverged: the quartic wall only gets steeper


def f1(x: np.ndarray | float) -> np.ndarray:
    """Return the 1-D cost at x."""
    x = np.asarray(x, dtype=np.float64)
    return x**4 / 40 - x**2 / 2 + x / 5 + 0.55 * np.sin(2.4 * x) + 3.0


def slope1(x: np.ndarray | float) -> np.ndarray:
    """Return df/dx at x."""
    x = np.asarray(x, dtype=np.float64)
    return x**3 / 10 - x + 0.2 + 0.55 * 2.4 * np.cos(2.4 * x)


# The 2-D surface: a gentle bowl with four Gaussian wells of different depths and widths.
XY_RANGE = (-4.0, 4.0)
ESCAPE_2D = 40.0
BOWL = 0.06
WELLS = np.array([  # centre x, centre y, depth, width
    [-2.0, -1.5, 1.6, 0.9],
    [2.2, 1.8, 1.3, 0.8],
    [1.8, -2.2, 0.9, 0.6],
    [-1.6, 2.3, 1.1, 0.7],
])


def f2(x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
    """Return the 2-D cost at (x, y) (broadcasts over arrays)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    value = BOWL * (x**2 + y**2) + 2.0
    for cx, cy, depth, width in WELLS:
        value = value - depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2))
    return value


def grad2(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Return (df/dx, df/dy) at (x, y)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    gx, gy = 2 * BOWL * x, 2 * BOWL * y
    for cx, cy, depth, width in WELLS:
        bump = depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2)) / width**2
        gx = gx + bump * (x - cx)
        gy = gy + bump * (y - cy)
    return gx, gy


def step1(x: float, learning_rate: float) -> float:
    """Return x after one descent step: x - learning_rate * f'(x)."""
    return float(x - learning_rate * slope1(x))


def step2(point: tuple[float, float], learning_rate: float) -> tuple[float, float]:
    """Return (x, y) after one descent step against the gradient."""
    gx, gy = grad2(*point)
    return float(point[0] - learning_rate * gx), float(point[1] - learning_rate * gy)


@dataclass(frozen=True)
class Path:
    points: list[tuple[float, ...]]   # the start, then one point per step
    values: list[float]               # the cost at each point
    outcome: str                      # "settled" | "moving" | "diverged"


def descend1(x0: float, learning_rate: float, steps: int, tol: float = 1e-4) -> Path:
    """Return the path of gradient descent from x0. It stops early once a step moves less than
    `tol` (settled in a valley) or |x| leaves the plot far behind (diverged)."""
    return _descend(lambda p: (step1(p[0], learning_rate),), (float(x0),),
                    lambda p: float(f1(p[0])), steps, tol, ESCAPE_1D)


def descend2(start: tuple[float, float], learning_rate: float, steps: int, tol: float = 1e-4) -> Path:
    """Return the path of gradient descent on the 2-D surface from `start` (same stopping rules)."""
    return _descend(lambda p: step2((p[0], p[1]), learning_rate), (float(start[0]), float(start[1])),
                    lambda p: float(f2(p[0], p[1])), steps, tol, ESCAPE_2D)


def _descend(step, start, value, steps: int, tol: float, escape: float) -> Path:
    points, values = [start], [value(start)]
    outcome = "moving"
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            new = step(points[-1])
            if not all(np.isfinite(new)) or max(abs(c) for c in new) > escape:
                outcome = "diverged"
                break
            moved = max(abs(a - b) for a, b in zip(new, points[-1], strict=True))
            points.append(new)
            values.append(value(new))
            if moved < tol:
                outcome = "settled"
                break
    return Path(points, values, outcome)


def local_minima_1d(n: int = 4001) -> list[float]:
    """Return the x of every valley floor of f1 inside X_RANGE (to the grid's resolution)."""
    xs = np.linspace(*X_RANGE, n)
    ys = f1(xs)
    inner = (ys[1:-1] < ys[:-2]) & (ys[1:-1] < ys[2:])
    return [float(x) for x in xs[1:-1][inner]]


def importance(gx: float, gy: float) -> dict[str, float | str]:
    """Return how the gradient ranks the two inputs: each one's share of |gradient| and the ratio,
    e.g. (3, 1) -> x matters 3 times as much as y for the same small nudge."""
    ax, ay = abs(gx), abs(gy)
    total = ax + ay
    if total == 0:
        return {"x_share": 0.5, "y_share": 0.5, "ratio": 1.0, "more": "neither"}
    big, small = max(ax, ay), min(ax, ay)
    return {"x_share": ax / total, "y_share": ay / total,
            "ratio": big / small if small > 0 else float("inf"),
            "more": "x" if ax > ay else "y" if ay > ax else "neither"}
