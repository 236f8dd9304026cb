"""When the run manager writes to the state folder, and what it does when a write fails: statuses at
once (a status the folder refuses is not taken), metrics points about once a second on a thread of
their own, a checkpoint at each epoch end. A failed background write is logged once per kind and kept
for GET /api/health; training goes on. How each thing is written is archive.py's business.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.training.trainer import Progress

from .archive import Archive
from .run import Run
from .storage import StorageError

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0   # metrics points reach the database at least this often


class Recorder:
    def __init__(self, archive: Archive | None, runs: Callable[[], list[Run]]):
        """`runs`: every run the manager holds (whose new points a flush writes)."""
        self.archive, self._runs = archive, runs
        self.problems: list[str] = archive.problems if archive is not None else []   # GET /api/health
        self.closed = threading.Event()

    def start_flushing(self) -> None:
        threading.Thread(target=self._flush_forever, name="runs-flush", daemon=True).start()

    def save(self, run: Run) -> None:
        if self.archive is not None:
            self.archive.save(run)

    def set_status(self, run: Run, status: str, error: str | None = None) -> None:
        run.set_status(status, error)
        self.save(run)

    def change_status(self, run: Run, status: str, was: str) -> None:
        """Save the new status first: a state folder that refuses it leaves the run as it `was`."""
        try:
            self.set_status(run, status)
        except StorageError:
            run.set_status(was)
            raise

    def note_problem(self, what: str, exc: BaseException) -> None:
        """Log a failed background write once per kind, and keep it for GET /api/health."""
        problem = f"{what}: {exc}"
        if problem not in self.problems:
            self.problems.append(problem)
            log.error("%s", problem, exc_info=not isinstance(exc, StorageError))

    def flush(self) -> None:
        """Write every run's new metrics points to the database, in one transaction."""
        if self.archive is not None:
            self.archive.flush(self._runs())

    def _flush_forever(self) -> None:
        while not self.closed.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except Exception as exc:  # a full disk must not end the flusher for good
                self.note_problem("could not write metrics points to the database", exc)

    def checkpoint(self, run: Run, progress: Progress | None) -> None:
        """Write the run's checkpoint, its replay and its points so far; a failure is logged, training
        goes on."""
        if self.archive is None or progress is None:
            return
        # The points first, so a checkpoint on disk always has its history in the database: a kill
        # between the two then leaves the older checkpoint and a history a little ahead of it (which a
        # resume trims); the other way round it left the epoch's end missing from the history.
        try:
            self.flush()
        except Exception as exc:
            self.note_problem("could not write metrics points to the database", exc)
        try:
            self.archive.checkpoint(run, progress)
        except Exception as exc:
            self.note_problem(f"could not write the checkpoint of run {run.id}", exc)
