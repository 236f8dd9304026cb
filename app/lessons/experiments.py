"""The training runs behind lessons 6, 7 and 8, and the create-or-reuse rule that keeps them few.

A lesson asks for runs by recipe. If the run manager already holds a run with exactly that recipe
that is queued, training, paused or finished, the lesson gets that run instead of a new one, so
opening a lesson five times starts its runs once. Stopped, failed and diverged runs are not reused
(the lesson starts a fresh one). Any run-manager-like object works: it needs list() and create().
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.training.config import TrainConfig

REUSABLE = ("queued", "running", "paused", "finished")

# Lesson 6: a few thousand images, a wider network, true vs shuffled labels, same everything else:
# the shuffled run learns its random labels by heart while staying at chance on test images, the
# true-label run generalises (docs/performance.md has how far each got).
RANDOM_LABELS = TrainConfig(hidden=[256], activation="sigmoid", cost="cross_entropy", learning_rate=0.5,
                            batch_size=20, epochs=60, seed=0, train_subset=2000, validation_size=0)
# Lesson 7: the video's network from several seeds, on enough data to be good in a few epochs.
SEEDS = (0, 1, 2, 3)
MANY_VALLEYS = TrainConfig(hidden=[16, 16], learning_rate=3.0, batch_size=10, epochs=3, seed=0,
                           train_subset=20_000, validation_size=0)
# Lesson 8's timeline: the video's network on all the training data, recorded from its first step.
TIMELINE = TrainConfig(hidden=[16, 16], learning_rate=3.0, batch_size=10, epochs=10, seed=0)
# Lesson 8: a wider first layer, for its weight maps beside the default network's. Its rate is lower
# than the video's 3.0: with 100 sigmoid neurons feeding each output, a step of 3.0 on the quadratic
# cost (whose slope is 2(a - y)) drives every output towards 0 within the first steps; there the
# sigmoid is flat, the quadratic cost's gradient vanishes with it, and the run never leaves chance.
WIDE = TrainConfig(hidden=[100], learning_rate=1.0, batch_size=10, epochs=3, seed=0,
                   train_subset=20_000, validation_size=0)


def random_label_configs(train_subset: int, epochs: int) -> dict[str, TrainConfig]:
    """Return the two recipes of lesson 6: true labels and shuffled labels."""
    base = replace(RANDOM_LABELS, train_subset=train_subset, epochs=epochs)
    return {"real": base, "shuffled": replace(base, label_mode="shuffled")}


def seed_configs(n: int) -> dict[str, TrainConfig]:
    """Return lesson 7's recipes: the same network from seeds 0..n-1."""
    return {f"seed-{s}": replace(MANY_VALLEYS, seed=s) for s in range(n)}


def find_existing(manager: Any, config: TrainConfig) -> Any | None:
    """Return the newest reusable run with exactly this recipe, or None."""
    wanted = config.to_dict()
    for run in manager.list():  # newest first
        if run.status in REUSABLE and run.config.to_dict() == wanted:
            return run
    return None


def find_or_create(manager: Any, config: TrainConfig, name: str) -> tuple[Any, bool]:
    """Return (run, created): an existing reusable run with exactly this recipe, else a new one."""
    run = find_existing(manager, config)
    if run is not None:
        return run, False
    return manager.create(replace(config), name=name), True
