"""Training runs owned by the server: one thread per running run, a queue beyond the concurrency limit.

Where the training itself happens is the executor's business (app/server/executors/): by default a
pool of worker processes, or the server's own thread (`executor="thread"`). Either way the run's
thread here gets every report in order and only ever calls `Run.publish(progress)`, which swaps in
the latest immutable Progress (with its weight snapshot) and appends a metrics point under a lock.
Readers (REST, live streams, predict ?run=ID) take the latest Progress and never touch the arrays
being trained.

With a state folder (app/server/archive.py) every run, status change and metrics point is kept in
SQLite (points in batches, about once a second, by recorder.py's flusher, so training never waits on the
disk), and checkpoints and replays keep the weights. After a restart, runs that were queued,
running or paused say `interrupted`; `resume` continues them from their last checkpoint, except on
Ray, where a run whose actor trained on while no server ran is taken back where it is (reattach.py).
`delete` forgets an ended run (rows, history, checkpoint, replay); its id is never handed out again.

The manager also holds the studio's watched run (the one every open page follows unless its viewer
picked another), changes a run's pace, and asks a paused run's trainer for single steps.
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

from app.training.config import TrainConfig, pace_problem
from app.training.mnist import Mnist, read_mnist
from app.training.trainer import Diverged, Progress, StepRequest

from .archive import Archive
from .checkpoints import Checkpoints
from .executors import Executor, RunFailed, Training, WorkerLost, default_executor
from .executors.control import apply_controls
from .reattach import active_runs, reattach
from .recorder import Recorder
from .run import ACTIVE, MAX_HISTORY, Run, clean_metrics  # noqa: F401 (MAX_HISTORY: part of this API)
from .storage import StorageError
from .store import Store
from .workbench import Workbench

log = logging.getLogger(__name__)

STEP_TIMEOUT = 60.0   # a step request longer than this is answered as still running


class RunStateError(Exception):
    """The run's status does not allow that action (the message says why)."""


class RunManager:
    """Holds every run of this server; at most `max_concurrent` train at once, the rest wait in order.
    With `state_dir`, runs, histories and checkpoints are kept there and reloaded at start."""

    def __init__(self, max_concurrent: int = 2, data_dir: Path | None = None,
                 data_loader: Callable[[], Mnist] | None = None, report_seconds: float = 0.1,
                 state_dir: Path | None = None, executor: str | None = None, ray_address: str | None = None):
        self.max_concurrent = max_concurrent
        self._runs: dict[str, Run] = {}
        self._queue: deque[Run] = deque()
        self._lock = threading.RLock()
        self.report_seconds = report_seconds
        self.archive = Archive(state_dir) if state_dir is not None else None
        self.store: Store | None = self.archive.store if self.archive is not None else None
        self.checkpoints: Checkpoints | None = self.archive.checkpoints if self.archive is not None else None
        kind = executor or ("ray" if ray_address else default_executor())
        load = data_loader or (lambda: read_mnist(data_dir))
        self.bench = Workbench(kind, max_concurrent, load, ray_address, self.store)   # data, executor
        # a deleted run's last points must not land after its rows go
        self._flush_lock = self.archive.flush_lock if self.archive is not None else threading.Lock()
        # The studio's watched run: the one every open page follows unless its viewer picked another.
        self.watched: str | None = None
        self.watched_changed = _now()
        self.studio_version = 0
        self.recorder = Recorder(self.archive, lambda: list(self._runs.values()))   # writes, and failures
        # Only a Ray studio takes runs back (read before the archive marks them interrupted).
        takes_back = kind == "ray" and self.store is not None and self.store.writable
        active = active_runs(self.store) if takes_back and self.store is not None else {}
        if self.archive is not None:
            for run in self.archive.read_runs():
                self._runs[run.id] = run
                if self.archive.store.writable:   # a read-only folder: shown as it was; health says why
                    self.recorder.save(run)
            self.recorder.start_flushing()
        deleted = self.store.ids_taken() if self.store is not None else []
        self._ids = itertools.count(max((int(i[1:]) for i in [*self._runs, *deleted]), default=0) + 1)
        if takes_back:
            reattach(self, active)

    @property
    def problems(self) -> list[str]:
        """What could not be read back or written (GET /api/health)."""
        return self.recorder.problems

    def flush(self) -> None:
        self.recorder.flush()

    def _on_progress(self, run: Run, progress: Progress) -> None:
        """The trainer's callback (training thread): publish, and checkpoint at each epoch end."""
        run.publish(progress)
        if progress.epoch_end:
            self.recorder.checkpoint(run, progress)

    # Runs ----------------------------------------------------------------------------------------
    def data(self) -> Mnist:
        return self.bench.data()

    def executor(self) -> Executor:
        return self.bench.executor()

    def create(self, config: TrainConfig, name: str | None = None, watch: bool = False) -> Run:
        """Queue a new run of a validated config and start it if a slot is free; return it.
        `watch`: make it the studio's watched run."""
        config.validate()
        with self._lock:
            run_id = f"r{next(self._ids)}"
            run = Run(run_id, name or run_id, config)
            self.recorder.save(run)   # first: if the state folder refuses it, nothing is left half made
            self._runs[run_id] = run
            self._queue.append(run)
            self._start_queued()
            if watch:
                self.watch(run_id)
        return run

    # The studio ----------------------------------------------------------------------------------
    def watch(self, run_id: str | None) -> dict:
        """Make `run_id` the studio's watched run (KeyError if unknown); return the studio state."""
        with self._lock:
            if run_id is not None:
                self.get(run_id)
            if run_id != self.watched:
                self.watched, self.watched_changed = run_id, _now()
                self.studio_version += 1
            return self.studio()

    def studio(self) -> dict:
        return {"watched": self.watched, "changed": self.watched_changed}

    # Pace and step -------------------------------------------------------------------------------
    def set_pace(self, run_id: str, pace: str | float) -> Run:
        """Change a run's pace (ValueError: not a pace; RunStateError: the run ended)."""
        with self._lock:
            run = self.get(run_id)
            if (why := pace_problem(pace, run.config.batch_size)) is not None:
                raise ValueError(why)
            if run.ended:
                raise RunStateError(f"run {run_id} is {run.status}; only a queued, running or paused run "
                                    "has a pace")
            run.pace = pace
            run.version += 1
            if run.trainer is not None:
                run.trainer.set_pace(pace)
        return run

    def step(self, run_id: str, steps: int) -> tuple[Run, StepRequest]:
        """Take exactly `steps` mini-batches of a paused run, which stays paused; return the run and
        what the steps did. Raises RunStateError unless the run is paused and training."""
        with self._lock:
            run = self.get(run_id)
            if run.status != "paused":
                raise RunStateError(f"run {run_id} is {run.status}; pause the run first, then step it")
            if run.trainer is None:
                raise RunStateError(f"run {run_id} has not started training yet; try again shortly")
            request = run.trainer.request_steps(steps)
        if not request.done.wait(STEP_TIMEOUT):
            raise RunStateError(f"run {run_id}: the {steps} steps are still being taken; see its progress")
        if request.error is not None:
            raise RunStateError(f"run {run_id}: {request.error}")
        return run, request

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
        """Return how many runs hold a training slot (running or paused)."""
        return sum(1 for r in self._runs.values() if r.status in ("running", "paused"))

    def pause(self, run_id: str) -> Run:
        with self._lock:
            run = self.get(run_id)
            if run.status != "running":
                raise RunStateError(f"run {run_id} is {run.status}; only a running run can be paused")
            self.recorder.change_status(run, "paused", "running")
            run.pause_requested = True
            if run.trainer is not None:
                run.trainer.pause()
        self.recorder.checkpoint(run, run.latest)
        return run

    def resume(self, run_id: str) -> Run:
        """Resume a paused run, or continue an interrupted one from its last checkpoint (it queues)."""
        with self._lock:
            run = self.get(run_id)
            if run.status == "interrupted":
                return self._continue(run)
            if run.status != "paused":
                raise RunStateError(f"run {run_id} is {run.status}; only a paused or interrupted run can "
                                    "be resumed")
            self.recorder.change_status(run, "running", "paused")
            run.pause_requested = False
            if run.trainer is not None:
                run.trainer.resume()
        return run

    def _continue(self, run: Run) -> Run:
        """Queue an interrupted run to train on from the start of its checkpoint's epoch."""
        latest = run.latest
        start = math.floor(latest.epoch + 1e-9) if latest is not None else 0
        run.resume_from = (latest.snapshot.copy(), start) if latest is not None else None
        run.forget_after(start)
        run.replay.drop_after(start)
        if self.store is not None:
            self.store.drop_points_after(run.id, max((p["step"] for p in run.history()), default=-1))
        run.stop_requested = run.pause_requested = run.shutting_down = False
        run.trainer, run.error = None, None
        self.recorder.set_status(run, "queued")
        self._queue.append(run)
        self._start_queued()
        return run

    def stop(self, run_id: str) -> Run:
        with self._lock:
            run = self.get(run_id)
            if run.ended:
                raise RunStateError(f"run {run_id} is already {run.status}")
            run.stop_requested = True
            if run in self._queue:  # never started: it simply leaves the queue
                self._queue.remove(run)
                self.recorder.set_status(run, "stopped")
            elif run.trainer is not None:
                run.trainer.stop()
        return run

    def delete(self, run_id: str) -> Run:
        """Forget an ended run: its database rows and history, its checkpoint, its place in the list;
        return it. Models saved from it are files of their own and stay. Raises KeyError (no such
        run) or RunStateError (queued, running or paused: stop it first)."""
        with self._lock:
            run = self.get(run_id)
            if not run.ended:
                raise RunStateError(f"run {run_id} is {run.status}; stop it first "
                                    f"(POST /api/runs/{run_id}/stop), then delete it")
            with self._flush_lock:
                if self.store is not None:
                    # The rows go first, in one transaction: the run is deleted from then on (if the
                    # database refuses, nothing changed). A checkpoint left behind is removed by _reload.
                    self.store.delete_run(run_id, datetime.now(UTC).isoformat(timespec="seconds"))
                del self._runs[run_id]
                run.take_unsaved()   # its rows are gone: nothing more to write
            run.replay.forget()
            if self.watched == run_id:   # the studio moves to the newest run left, if any
                left = self.list()
                self.watch(left[0].id if left else None)
        if self.archive is not None:
            try:
                self.archive.forget_files(run_id)
            except OSError:
                log.exception("could not remove the checkpoint of deleted run %s (retried at start)", run_id)
        log.info("deleted run %s (%s)", run_id, run.name)
        return run

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every run (they will say `interrupted` at the next start; on Ray with a state folder
        they train on, detached, for the next server to take back), wait (up to `timeout` seconds each)
        for the threads to end, and write what is left to the database."""
        with self._lock:
            for run in self._queue:
                self.recorder.set_status(run, "interrupted", "the server stopped before this run started")
            self._queue.clear()
            executor = self.bench.made
            detach = executor is not None and executor.survives_restart
            for run in self._runs.values():
                if run.thread is None or run.ended:
                    continue
                run.shutting_down, run.detached = True, detach
                run.stop_requested = run.stop_requested or not detach
                if run.trainer is not None and not (executor is not None and executor.detach(run.trainer)):
                    run.trainer.stop()
        for run in list(self._runs.values()):
            thread = run.thread
            if thread is not None:
                thread.join(timeout)
        self.recorder.closed.set()
        if self.bench.made is not None:
            self.bench.made.close()
        if self.store is not None:
            self.flush()
            self.store.close()

    def _start_queued(self) -> None:
        with self._lock:
            while self._queue and self.running_count() < self.max_concurrent:
                run = self._queue.popleft()
                self.recorder.set_status(run, "running")
                self.launch(run)

    def launch(self, run: Run, training: Training | None = None) -> None:
        """Start the run's thread: it trains the run (or reads on a `training` already going)."""
        run.thread = threading.Thread(target=self._train, args=(run, training), name=f"train-{run.id}",
                                      daemon=True)
        run.thread.start()

    def _train(self, run: Run, trainer: Training | None = None) -> None:
        """Body of a training thread: train, record how it ended, hand the slot to the next run."""
        status, error = "finished", None
        try:
            if trainer is None:
                network, start = run.resume_from or (None, 0)
                run.resume_from = None
                trainer = self.executor().start(run.config, lambda p: self._on_progress(run, p),
                                                self.report_seconds, network, start, run.id)
            with self._lock:
                run.trainer = trainer
                apply_controls(trainer, run.pace, run.pause_requested, run.stop_requested)
                if run.detached:   # the server began to stop while this run's training was being made
                    self.executor().detach(trainer)
            self.bench.share_data()
            run.probe_x = self.bench.probe_x()
            trainer.run()
            status = "stopped" if trainer.stopped else "finished"
            if trainer.stopped and run.shutting_down:
                status, error = "interrupted", "the server stopped while this run was training; resume it"
        except Diverged as exc:
            status, error = "diverged", str(exc)
        except RunFailed as exc:
            log.error("run %s failed in its worker: %s", run.id, exc)
            status, error = "failed", str(exc)
        except WorkerLost as exc:   # resumable from its last checkpoint, like a server restart
            status, error = "interrupted", str(exc)
        except Exception as exc:  # a run that fails must not take the server down
            log.exception("run %s failed", run.id)
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            self.recorder.checkpoint(run, run.latest)   # the last good weights, whatever happened
            with self._lock:  # the slot is free the moment the status leaves running/paused
                # An ended run keeps its metrics, latest weights and replay; the trainer (its prepared
                # data) and the thread go now.
                run.trainer, run.thread = None, None
                if not run.detached:   # a detached run trains on: its stored status stays as it is
                    try:
                        self.recorder.set_status(run, status, error)
                    except StorageError as exc:   # the run has ended all the same; health says why
                        self.recorder.note_problem(f"could not save the end of run {run.id}", exc)
                if not run.shutting_down:
                    self._start_queued()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
