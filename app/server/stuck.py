"""Is a run stuck? A run whose probe accuracy stays near chance after a fair while gets a warning in
plain words, with a reason read from its weights and something to try."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.training.config import SUGGESTED, TrainConfig
from app.training.trainer import Progress

FAIR_WHILE = 20_000       # examples seen before a run is judged
NEAR_CHANCE = 0.2         # probe accuracy below this is near chance (10% for ten digits)
RECOVERED = 0.3           # and above this the warning goes away


def suggested_rate(config: TrainConfig) -> float:
    return SUGGESTED.get(f"{config.activation}/{config.cost}", {}).get("learning_rate", 0.1)


def check(config: TrainConfig, progress: Progress, probe_x: np.ndarray,
          current: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the run's warning after this report (None: none), given the warning it had."""
    accuracy = progress.probe_accuracy
    if accuracy is None or progress.examples_seen < FAIR_WHILE:
        return current
    if current is not None and accuracy < RECOVERED:   # still stuck: the figures of now, once a second
        return diagnose(config, progress, probe_x) if progress.evaluated or progress.final else current
    if accuracy >= NEAR_CHANCE:
        return None
    return diagnose(config, progress, probe_x)


def diagnose(config: TrainConfig, progress: Progress, probe_x: np.ndarray) -> dict[str, Any]:
    """Return a `stuck` warning with the likeliest reason, read from the weights."""
    net = progress.snapshot
    seen = f"after {progress.examples_seen:,} examples"
    accuracy = f"{(progress.probe_accuracy or 0):.0%}"
    largest = float(max(np.abs(w).max() for w in net.W))
    rate, good = config.learning_rate, suggested_rate(config)
    too_high = rate > 2 * good
    with np.errstate(all="ignore"):   # a stuck network's huge weights may overflow; that is the point
        hidden = net.forward(probe_x)[1:-1]
    if config.label_mode == "shuffled":
        why = (f"accuracy on test images is {accuracy} {seen}: expected, since the training labels are "
               "shuffled and there is nothing real to learn")
        return {"code": "stuck", "message": why, "suggestion": "use real labels to see it learn"}
    if config.activation == "relu" and hidden:
        dead = sum(int((a.max(axis=0) <= 0).sum()) for a in hidden)
        total = sum(a.shape[1] for a in hidden)
        if dead >= total / 2:
            return {"code": "stuck", "message": (
                f"the network is stuck near chance ({accuracy}) {seen}: {dead} of its {total} hidden "
                f"units never activate on any test image (they are dead), and the largest weight is "
                f"{largest:+.0f}"),
                "suggestion": f"learning rate too high for ReLU: try {good:g}"}
    if config.activation == "sigmoid" and hidden:
        flat = np.concatenate([a.ravel() for a in hidden])
        saturated = float(np.mean((flat < 0.01) | (flat > 0.99)))
        if saturated > 0.9:
            return {"code": "stuck", "message": (
                f"the network is stuck near chance ({accuracy}) {seen}: {saturated:.0%} of its hidden "
                f"sigmoids are saturated (stuck at 0 or 1), so almost no gradient gets through; the "
                f"largest weight is {largest:+.0f}"),
                "suggestion": f"try a smaller learning rate, e.g. {good:g}" if too_high
                else "try a smaller learning rate, or the cross-entropy cost"}
    suggestion = (f"learning rate {rate:g} looks too high for {config.activation} with "
                  f"{config.cost.replace('_', '-')}: try {good:g}") if too_high else \
        "try another learning rate or activation, or reset with a new seed"
    return {"code": "stuck", "message": f"accuracy stays near chance ({accuracy}) {seen}; the network "
                                        f"is not learning", "suggestion": suggestion}
