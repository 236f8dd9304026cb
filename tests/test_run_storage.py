"""A state folder that refuses writes while runs train (issue 15): a pause that cannot be saved leaves
the run running, not half paused; checkpoints that cannot be written are logged once and listed as a
problem (GET /api/health reads RunManager.problems), and training goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.server.runs import RunManager
from app.server.storage import StorageError
from app.training.config import TrainConfig
from tests.support.wait import wait_until

SLOW = TrainConfig(hidden=[16], train_subset=1000, validation_size=100, epochs=40, pace=2000)


@pytest.fixture
def manager(tmp_path: Path, mnist):
    m = RunManager(1, data_loader=lambda: mnist, state_dir=tmp_path / "state")
    yield m
    m.shutdown()


def full_disk(*args, **kwargs):
    raise StorageError("the disk holding the state folder is full, so nothing was saved or changed", 507)


def test_a_pause_the_folder_refuses_leaves_the_run_running(manager, monkeypatch):
    run = manager.create(SLOW)
    wait_until(lambda: run.latest, lambda p: p is not None and p.step > 0, what="training")
    assert manager.archive is not None
    monkeypatch.setattr(manager.archive, "save", full_disk)
    with pytest.raises(StorageError):
        manager.pause(run.id)
    assert run.status == "running" and not run.pause_requested
    step = run.latest.step
    wait_until(lambda: run.latest.step, lambda s: s > step + 50, what="steps after the refused pause")
    monkeypatch.undo()
    assert manager.pause(run.id).status == "paused"


def test_checkpoints_the_folder_refuses_are_a_problem_said_once(manager, monkeypatch, caplog):
    assert manager.archive is not None
    monkeypatch.setattr(manager.archive, "checkpoint", full_disk)
    run = manager.create(SLOW)
    wait_until(lambda: run.latest, lambda p: p is not None and p.epoch >= 3, what="three epoch ends")
    problems = [p for p in manager.problems if "checkpoint of run" in p]
    assert problems == [f"could not write the checkpoint of run {run.id}: the disk holding the state "
                        "folder is full, so nothing was saved or changed"]
    assert sum("checkpoint of run" in r.getMessage() for r in caplog.records) == 1
    assert run.status == "running"


def test_a_checkpoint_is_written_after_its_points_are_in_the_database(manager, monkeypatch):
    """A kill between the two must not leave a checkpoint whose epoch end the history lacks."""
    assert manager.archive is not None and manager.store is not None
    store, write = manager.store, manager.archive.checkpoint
    seen: list[tuple[int, list[int]]] = []

    def checkpoint(run, progress):
        ends = [p["step"] for p in store.points(run.id) if p["epoch_end"]]
        seen.append((progress.step, ends))
        write(run, progress)

    monkeypatch.setattr(manager.archive, "checkpoint", checkpoint)
    manager.create(SLOW)
    wait_until(lambda: len(seen), lambda n: n >= 3, what="three epoch-end checkpoints")
    for step, stored_ends in seen[:3]:
        assert step in stored_ends, (step, stored_ends)
