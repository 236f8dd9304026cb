"""Training runs owned by the server: one thread per running run, a queue beyond the concurrency limit.

The training thread only ever calls `Run.publish(progress)`, which swaps in the latest immutable
Progress (with its weight snapshot) and appends a metrics point under a lock. Readers (REST, live
streams, predict ?run=ID) take the latest Progress and never touch the arrays being trained.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.training.config import TrainConfig
from app.training.mnist import Mnist, load_mnist
from app.training.trainer import Diverged, Progress, Trainer

log = logging.getLogger(__name__)

MAX_HISTORY = 5000
ACTIVE = ("queued", "running", "paused")


class RunStateError(Exception):
    """The run's status does not allow that action (the message says why)."""


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
        self.trainer: Trainer | None = None
        self.thread: threading.Thread | None = None
        self._history: list[dict[str, Any]] = []
        self._stride, self._reports = 1, 0
        self._lock = threading.Lock()
        self.pause_requested = False    # asked before the trainer existed
        self.stop_requested = False

    # Called from the training thread.
    def publish(self, progress: Progress) -> None:
        point = clean_metrics(progress)
        with self._lock:
            self.latest = progress
            self._reports += 1
            if self._reports % self._stride == 0 or progress.epoch_end or progress.final:
                self._history.append(point)
                if len(self._history) > MAX_HISTORY:
                    self._thin()
            self.version += 1

    def _thin(self) -> None:
        """Halve the history (keeping epoch ends and the last point) and record half as often from now."""
        last = len(self._history) - 1
        self._history = [p for i, p in enumerate(self._history)
                         if i % 2 == 0 or i == last or p["epoch_end"] or p["final"]]
        self._stride *= 2

    def set_status(self, status: str, error: str | None = None) -> None:
        with self._lock:
            self.status, self.error = status, error or self.error
            self.version += 1

    def history(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._history)

    @property
    def ended(self) -> bool:
        return self.status not in ACTIVE

    def to_dict(self) -> dict[str, Any]:
        """Return the public run object of docs/api.md."""
        latest = self.latest
        metrics = clean_metrics(latest) if latest is not None else None
        return {"id": self.id, "name": self.name, "status": self.status, "config": self.config.to_dict(),
                "created": self.created, "error": self.error,
                "progress": {"epoch": latest.epoch if latest else 0.0, "epochs": self.config.epochs,
                             "step": latest.step if latest else 0,
                             "examples_seen": latest.examples_seen if latest else 0},
                "metrics": metrics}


class RunManager:
    """Holds every run of this server; at most `max_concurrent` train at once, the rest wait in order."""

    def __init__(self, max_concurrent: int = 2, data_dir: Path | None = None,
                 data_loader: Callable[[], Mnist] | None = None, report_seconds: float = 0.1):
        self.max_concurrent = max_concurrent
        self._load_data = data_loader or (lambda: load_mnist(data_dir))
        self._data: Mnist | None = None
        self._data_lock = threading.Lock()
        self._runs: dict[str, Run] = {}
        self._queue: deque[Run] = deque()
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.report_seconds = report_seconds

    def data(self) -> Mnist:
        """Return MNIST, loaded (and checksummed) once for all runs."""
        with self._data_lock:
            if self._data is None:
                self._data = self._load_data()
            return self._data

    def create(self, config: TrainConfig, name: str | None = None) -> Run:
        """Queue a new run of a validated config and start it if a slot is free; return it."""
        config.validate()
        with self._lock:
            run_id = f"r{next(self._ids)}"
            run = Run(run_id, name or run_id, config)
            self._runs[run_id] = run
            self._queue.append(run)
            self._start_queued()
        return run

    def get(self, run_id: str) -> Run:
        """Return the run or raise KeyError with a readable message."""
        run = self._runs.get(run_id)
        if run is None:
            raise KeyError(f"no run {run_id!r}; GET /api/runs lists the runs")
        return run

    def list(self) -> list[Run]:
        """Return every run, newest first."""
        return sorted(self._runs.values(), key=lambda r: int(r.id[1:]), reverse=True)

    def running_count(self) -> int:
        return sum(1 for r in self._runs.values() if r.status in ("running", "paused"))

    def pause(self, run_id: str) -> Run:
        with self._lock:
            run = self.get(run_id)
            if run.status != "running":
                raise RunStateError(f"run {run_id} is {run.status}; only a running run can be paused")
            run.pause_requested = True
            if run.trainer is not None:
                run.trainer.pause()
            run.set_status("paused")
        return run

    def resume(self, run_id: str) -> Run:
        with self._lock:
            run = self.get(run_id)
            if run.status != "paused":
                raise RunStateError(f"run {run_id} is {run.status}; only a paused run can be resumed")
            run.pause_requested = False
            if run.trainer is not None:
                run.trainer.resume()
            run.set_status("running")
        return run

    def stop(self, run_id: str) -> Run:
        with self._lock:
            run = self.get(run_id)
            if run.ended:
                raise RunStateError(f"run {run_id} is already {run.status}")
            run.stop_requested = True
            if run in self._queue:  # never started: it simply leaves the queue
                self._queue.remove(run)
                run.set_status("stopped")
            elif run.trainer is not None:
                run.trainer.stop()
        return run

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every run and wait (up to `timeout` seconds each) for the threads to end."""
        with self._lock:
            self._queue.clear()
            for run in self._runs.values():
                run.stop_requested = True
                if run.trainer is not None:
                    run.trainer.stop()
                elif run.status == "queued":
                    run.set_status("stopped")
        for run in list(self._runs.values()):
            if run.thread is not None:
                run.thread.join(timeout)

    def _start_queued(self) -> None:
        with self._lock:
            while self._queue and self._slots_taken() < self.max_concurrent:
                run = self._queue.popleft()
                run.set_status("running")
                run.thread = threading.Thread(target=self._train, args=(run,), name=f"train-{run.id}",
                                              daemon=True)
                run.thread.start()

    def _slots_taken(self) -> int:
        return sum(1 for r in self._runs.values() if r.status in ("running", "paused"))

    def _train(self, run: Run) -> None:
        """Body of a training thread: train, record how it ended, hand the slot to the next run."""
        status, error = "finished", None
        try:
            trainer = Trainer(run.config, self.data(), run.publish, report_seconds=self.report_seconds)
            with self._lock:
                run.trainer = trainer
                if run.pause_requested:
                    trainer.pause()
                if run.stop_requested:
                    trainer.stop()
            trainer.run()
            status = "stopped" if trainer.stopped else "finished"
        except Diverged as exc:
            status, error = "diverged", str(exc)
        except Exception as exc:  # a run that fails must not take the server down
            log.exception("run %s failed", run.id)
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:  # the slot is free the moment the status leaves running/paused
                run.set_status(status, error)
                self._start_queued()
