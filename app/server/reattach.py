"""Runs that outlive their server, on Ray: at start, take back the runs whose actors trained on while no
server ran, and end this studio's actors that nobody will read.

A studio's actors are named after its state folder's id (`studio_id`, kept in the folder) and their
run ids, so a server on the same folder finds exactly its own. For each run stored as running or
paused: its actor alive -> the run is taken back as it is (same actor, its queued reports read in
order, its controls as they were); its actor gone (the cluster restarted, or its lease ran out) ->
the run stays `interrupted`, resumable from its last checkpoint. An actor whose run is unknown,
deleted or ended is killed. docs/scaling.md says what survives what.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from app.atomicfile import atomic_write

from .executors import WorkerLost
from .run import Run
from .storage import StorageError
from .store import Store

if TYPE_CHECKING:
    from .executors.ray import RayTraining
    from .runs import RunManager

log = logging.getLogger(__name__)
STUDIO_FILE = "studio-id"


def studio_id(store: Store) -> str | None:
    """Return the id of the state folder (made the first time); None if it can be neither read nor made."""
    path = store.state_dir / STUDIO_FILE
    try:
        text = path.read_text().strip() if path.exists() else ""
        if not (len(text) == 12 and all(c in "0123456789abcdef" for c in text)):
            text = secrets.token_hex(6)
            atomic_write(path, lambda f: f.write(f"{text}\n".encode()))   # half an id would orphan actors
    except OSError as exc:
        log.warning("no studio id in %s (%s): Ray actors will not outlive this server", store.state_dir, exc)
        return None
    return text


def active_runs(store: Store) -> dict[str, str]:
    """Return {run id: status} of the runs stored as running or paused (read before the archive marks
    them interrupted)."""
    return {row.id: row.status for row in store.runs() if row.status in ("running", "paused")}


def recorded(run: Run) -> tuple[int, bool, bool]:
    """Return (step, epoch_end, final) of the newest report the run has on record (its history points
    and its checkpoint)."""
    latest = run.latest
    points = [(p["step"], p["epoch_end"], p["final"]) for p in run.history()]
    return max([*points, (latest.step, latest.epoch_end, latest.final) if latest else (-1, False, False)])


def reattach(manager: RunManager, active: dict[str, str]) -> list[str]:
    """Take back the `active` runs whose actors still train; kill this studio's other actors. Return
    the ids taken back."""
    from .executors.ray import RayExecutor
    try:
        executor = manager.executor()
        assert isinstance(executor, RayExecutor)
        found = executor.ours()
    except Exception as exc:   # the cluster cannot be reached: the runs stay interrupted
        manager.recorder.note_problem("could not reach the Ray cluster to take back its runs", exc)
        return []
    taken = []
    for run_id in found:
        run = manager._runs.get(run_id)
        training = None
        if run is not None and run_id in active:
            publish = lambda p, r=run: manager._on_progress(r, p)   # noqa: E731
            training = executor.reattach(run_id, run.config, publish, recorded(run))
        if training is not None:
            try:
                assert run is not None
                _take_back(manager, run, training)
                taken.append(run_id)
                continue
            except WorkerLost:   # it ended just now
                pass
            except StorageError as exc:   # a state folder that refuses its status: the run stays interrupted
                manager.recorder.note_problem(f"could not take back run {run_id}", exc)
        log.warning("killing the Ray actor of run %s: %s", run_id,
                    "its run is not training" if training is None else "it ended while being taken back")
        executor.kill(run_id)
    for run_id in active.keys() - set(taken):
        if (run := manager._runs.get(run_id)) is not None:
            run.error = (f"{run.error}; its Ray actor is gone (the cluster restarted, or no server called "
                         f"it within its lease of {executor.lease:.0f} s)")
            manager.recorder.save(run)
    return taken


def _take_back(manager: RunManager, run: Run, training: RayTraining) -> None:
    """Publish what the run's actor queued meanwhile, record the run as training again and start its
    thread; raises WorkerLost (the actor ended) or StorageError (the folder refused the status)."""
    training.catch_up()
    why, run.error = run.error, None
    try:   # saved first: a folder that refuses it leaves the run interrupted, saying why
        manager.recorder.change_status(run, "paused" if training.paused else "running", "interrupted")
    except StorageError:
        run.error = why
        raise
    run.pace, run.pause_requested, run.stop_requested = training.pace, training.paused, training.stopped
    run.trainer = training   # controls work at once, before its thread is under way
    manager.launch(run, training)
    log.info("run %s: taken back on its Ray actor (pid %s), still %s", run.id, training.pid, run.status)
