"""Where runs outlive the server, under its state folder: their rows, statuses and metrics points in
SQLite (store.py), their weights in checkpoints (checkpoints.py) and their replays beside those
(replay.py). RunManager (runs.py) decides when to write; this file knows how, and how to read back."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable
from pathlib import Path

from app.training.config import TrainConfig
from app.training.modelfile import ModelFileError
from app.training.trainer import Progress

from .checkpoints import Checkpoints
from .run import ACTIVE, Run, clean_metrics
from .store import Store

log = logging.getLogger(__name__)


class Archive:
    def __init__(self, state_dir: Path):
        self.store = Store(state_dir)
        self.checkpoints = Checkpoints(Path(state_dir) / "checkpoints")
        self.problems: list[str] = list(self.store.problems)   # what could not be read back
        self.flush_lock = threading.Lock()   # a deleted run's last points must not land after its rows go

    def read_runs(self) -> list[Run]:
        """Return the stored runs with their histories, checkpoints and replays; those that were
        training when the server died are `interrupted`. Finishes deletes a crash cut short."""
        runs = []
        for row in self.store.runs():
            run = Run(row.id, row.name, TrainConfig.from_dict(row.config))
            run.created, run.status, run.error = row.created, row.status, row.error
            latest = None
            try:
                latest = self.checkpoints.read(run.id)
            except ModelFileError as exc:
                message = f"checkpoint unreadable, skipped (the run restarts from scratch if resumed): {exc}"
                log.error("run %s: %s", run.id, message)
                self.problems.append(f"run {run.id}: {message}")
                run.error = message
            if row.status in ACTIVE:
                where = f"epoch {math.floor(latest.epoch + 1e-9)}" if latest else "the start"
                run.status = "interrupted"
                run.error = (f"the server stopped while this run was {row.status}; resume it to continue "
                             f"from {where}" + (f" ({run.error})" if run.error else ""))
            run.restore(self.store.points(run.id), latest)
            self._read_replay(run)
            runs.append(run)
        for run_id in self.store.deleted_runs():
            if self.checkpoints.delete(run_id):
                log.warning("removed the checkpoint of deleted run %s (a delete was cut short)", run_id)
            self.replay_path(run_id).unlink(missing_ok=True)
        return runs

    def save(self, run: Run) -> None:
        """Record the run's status (and config, the first time) in the database."""
        run.persist = True
        self.store.save_run(run.id, run.name, run.status, run.error, run.config.to_dict(), run.created)

    def flush(self, runs: Iterable[Run]) -> None:
        """Write these runs' new metrics points to the database, in one transaction."""
        with self.flush_lock:
            self.store.add_points([(run.id, p) for run in runs for p in run.take_unsaved()])

    def checkpoint(self, run: Run, progress: Progress) -> None:
        """Write the run's checkpoint and, if it changed, its replay (with the run's warning, so a
        stuck run still says so after a restart)."""
        if self.checkpoints.write(run.id, progress, clean_metrics(progress), run.config.to_dict()) \
                and run.replay.dirty:
            run.replay.save(self.replay_path(run.id), {"warning": run.warning})

    def replay_path(self, run_id: str) -> Path:
        return self.checkpoints.folder / f"{run_id}.replay.npz"

    def _read_replay(self, run: Run) -> None:
        path = self.replay_path(run.id)
        if path.exists():
            try:
                warning = run.replay.load(path).get("warning")
                run.warning = warning if isinstance(warning, dict) else None
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.error("run %s: replay unreadable, skipped: %s", run.id, exc)
                self.problems.append(f"run {run.id}: replay unreadable, skipped: {exc}")

    def forget_files(self, run_id: str) -> None:
        """Remove a deleted run's checkpoint (for good) and replay; OSError if the disk refuses."""
        self.checkpoints.delete(run_id)
        self.replay_path(run_id).unlink(missing_ok=True)
