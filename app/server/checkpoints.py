"""Run checkpoints: <state_dir>/checkpoints/<run id>.npz, the weights of a run's latest report plus that
report's metrics, written atomically (app.training.modelfile.save_model, through app.atomicfile:
temporary file, fsync, rename).

A checkpoint is written at each epoch end, on pause, and when a run ends (finished, stopped, diverged,
failed): after a crash the run resumes from it, and after any restart its weights are there again for
predict and the live heatmaps. Deleting a run deletes its checkpoint; a late write (a pause's checkpoint
still on its way) cannot bring it back.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any

from app.atomicfile import remove_stale_temporaries
from app.training.modelfile import ModelFileError, load_model, save_model
from app.training.trainer import Progress

log = logging.getLogger(__name__)
PROGRESS_FIELDS = {f.name for f in fields(Progress)} - {"snapshot"}


class Checkpoints:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:   # a read-only state folder: reading works, writes say why they fail
            log.warning("cannot create %s (%s)", self.folder, exc)
        if self.folder.is_dir():
            remove_stale_temporaries(self.folder)
        self._lock = threading.Lock()
        self._written: dict[str, int] = {}   # run id -> step of its newest checkpoint
        self._deleted: set[str] = set()      # runs whose checkpoints must never be written again

    def path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.npz"

    def write(self, run_id: str, progress: Progress, metrics: dict[str, Any], config: dict[str, Any]) -> bool:
        """Write the run's checkpoint unless a newer one is already there; return whether it wrote.
        (A pause and an epoch end may race from two threads: the newer report wins.)"""
        with self._lock:
            if run_id in self._deleted or self._written.get(run_id, -1) > progress.step:
                return False
            save_model(self.path(run_id), progress.snapshot,
                       {"run": run_id, "epoch": progress.epoch, "step": progress.step, "progress": metrics,
                        "config": config})
            self._written[run_id] = progress.step
        return True

    def delete(self, run_id: str) -> bool:
        """Remove the run's checkpoint for good (no later write may recreate it); return whether a
        file was there."""
        with self._lock:
            self._deleted.add(run_id)
            self._written.pop(run_id, None)
            path = self.path(run_id)
            existed = path.exists()
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:   # a read-only folder: the file is swept at a start that can write
                log.warning("could not remove the checkpoint of deleted run %s (%s)", run_id, exc)
                return False
        return existed

    def read(self, run_id: str) -> Progress | None:
        """Return the checkpointed report (with its weights), None if the run has no checkpoint, or
        raise ModelFileError if the file is unreadable."""
        path = self.path(run_id)
        if not path.exists():
            return None
        net, meta = load_model(path)
        metrics = meta.get("progress")
        if not isinstance(metrics, dict) or not {"step", "epoch"} <= metrics.keys():
            raise ModelFileError(f"{path}: not a run checkpoint (no progress record)")
        with self._lock:
            self._written[run_id] = int(metrics["step"])
        values = {k: v for k, v in metrics.items() if k in PROGRESS_FIELDS}
        if values.get("batch_cost") is None:   # NaN was stored as null
            values["batch_cost"] = float("nan")
        try:
            return Progress(**values, snapshot=net)
        except TypeError as exc:
            raise ModelFileError(f"{path}: the progress record is incomplete ({exc})") from exc
