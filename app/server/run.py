"""One training run as the server holds it: config, status, pace, the newest report, the metrics
history, its replay snapshots and, if it stopped learning, a warning.

The run's thread (fed by its executor, app/server/executors/) only ever calls `Run.publish(progress)`,
which swaps in the latest immutable Progress (with its weight snapshot), appends a metrics point under
a lock, offers the snapshot to the replay and checks whether the run is stuck (app/server/stuck.py).
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.trainer import Progress

from . import stuck
from .executors import Training
from .replay import Replay

MAX_HISTORY = 5000
ACTIVE = ("queued", "running", "paused")


def clean_metrics(progress: Progress) -> dict[str, Any]:
    """Return a progress report as JSON-safe numbers: NaN and infinity become None."""
    point = progress.metrics()
    for key, value in point.items():
        if isinstance(value, float) and not math.isfinite(value):
            point[key] = None
    return point


class Run:
    def __init__(self, run_id: str, name: str, config: TrainConfig):
        self.id, self.name, self.config = run_id, name, config
        self.created = datetime.now(UTC).isoformat(timespec="seconds")
        self.status = "queued"
        self.error: str | None = None
        self.latest: Progress | None = None       # newest report, with its immutable snapshot
        self.version = 0                          # bumps on every report and status change
        self.trainer: Training | None = None       # while it trains (a Trainer or a worker's handle)
        self.thread: threading.Thread | None = None
        self._history: list[dict[str, Any]] = []
        self._stride, self._reports = 1, 0
        self._lock = threading.Lock()
        self.pause_requested = False    # asked before the trainer existed
        self.stop_requested = False
        self.shutting_down = False      # stopped by the server's shutdown, not by a person
        self.detached = False           # left training (on Ray) by the server's shutdown, for the next one
        self.resume_from: tuple[Network, int] | None = None   # (checkpoint weights, first epoch)
        self.persist = False            # True: keep points for the database (take_unsaved)
        self._unsaved: list[dict[str, Any]] = []              # points not yet in the database
        self.pace: str | float = config.pace                   # now (the config has it as started)
        self.warning: dict[str, Any] | None = None             # a run that stopped learning says so
        self.replay = Replay()
        self.probe_x: np.ndarray | None = None                 # the probe's images (stuck.check)

    # Called from the training thread.
    def publish(self, progress: Progress) -> None:
        point = clean_metrics(progress)
        self.replay.offer(progress)
        warning = self.warning
        if self.probe_x is not None:
            warning = stuck.check(self.config, progress, self.probe_x, warning)
        with self._lock:
            self.warning = warning
            self.latest = progress
            self._reports += 1
            keep = progress.epoch_end or progress.final or progress.milestone
            if keep or self._reports % self._stride == 0:
                self._history.append(point)
                if self.persist:
                    self._unsaved.append(point)
                if len(self._history) > MAX_HISTORY:
                    self._thin()
            self.version += 1

    def _thin(self) -> None:
        """Halve the history (keeping epoch ends, the log-spaced points, so the early climb stays,
        and the last point) and record half as often from now."""
        last = len(self._history) - 1
        self._history = [p for i, p in enumerate(self._history)
                         if i % 2 == 0 or i == last or p["epoch_end"] or p["final"] or p.get("milestone")]
        self._stride *= 2

    def set_status(self, status: str, error: str | None = None) -> None:
        with self._lock:
            self.status, self.error = status, error or self.error
            self.version += 1
        if self.ended:   # its replay, saved at its last checkpoint, is read back from disk when asked
            self.replay.release()

    def history(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._history)

    def take_unsaved(self) -> list[dict[str, Any]]:
        """Return the points recorded since the last call (for the database) and forget them."""
        with self._lock:
            points, self._unsaved = self._unsaved, []
        return points

    def restore(self, points: list[dict[str, Any]], latest: Progress | None) -> None:
        """Take back a stored history (thinned as if it had been recorded here) and checkpoint."""
        with self._lock:
            self._history = list(points)
            while len(self._history) > MAX_HISTORY:
                self._thin()
            self.latest = latest
            self.version += 1

    def forget_after(self, epoch: float) -> None:
        """Drop the history beyond `epoch` (a resumed run trains from there again)."""
        with self._lock:
            self._history = [p for p in self._history if p["epoch"] <= epoch + 1e-9]
            self._unsaved = [p for p in self._unsaved if p["epoch"] <= epoch + 1e-9]

    @property
    def ended(self) -> bool:
        return self.status not in ACTIVE

    def to_dict(self) -> dict[str, Any]:
        """Return the public run object of docs/api.md."""
        latest = self.latest
        metrics = clean_metrics(latest) if latest is not None else None
        return {"id": self.id, "name": self.name, "status": self.status, "config": self.config.to_dict(),
                "created": self.created, "error": self.error, "pace": self.pace, "warning": self.warning,
                "progress": {"epoch": latest.epoch if latest else 0.0, "epochs": self.config.epochs,
                             "step": latest.step if latest else 0,
                             "examples_seen": latest.examples_seen if latest else 0},
                "metrics": metrics}
