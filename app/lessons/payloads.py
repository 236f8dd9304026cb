"""JSON-ready dicts for the lesson endpoints (plain lists of rounded floats; no web imports)."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from .example import ExampleCost, Nudge
from .landscape import Path


def rounded(a: np.ndarray | float, places: int = 5) -> Any:
    """Return a (array or number) as nested lists of floats rounded to `places`."""
    return np.round(np.asarray(a, np.float64), places).tolist()


def image28(x: np.ndarray) -> list[list[float]]:
    """Return a 784-pixel image as 28 rows of 28 numbers (0..1)."""
    return rounded(np.asarray(x).reshape(28, 28), 3)


def cost_payload(c: ExampleCost) -> dict[str, Any]:
    return {"activations": rounded(c.activations), "desired": rounded(c.desired, 0),
            "squared": rounded(c.squared, 6), "cost": round(c.cost, 6), "digit": c.digit}


def path_payload(p: Path) -> dict[str, Any]:
    """Return a descent path; finite numbers only (a diverged path stops before the blow-up)."""
    return {"points": [[round(v, 6) for v in pt] for pt in p.points],
            "values": [round(v, 6) if math.isfinite(v) else None for v in p.values],
            "outcome": p.outcome, "steps": len(p.points) - 1}


def nudge_payload(n: Nudge) -> dict[str, Any]:
    d = asdict(n)
    d["gradient"], d["value"] = float(f"{n.gradient:.6g}"), float(f"{n.value:.6g}")
    if n.layer == 0 and n.kind == "weight":
        d["pixel"] = {"row": n.source // 28, "col": n.source % 28}
    return d
