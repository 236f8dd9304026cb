"""Runs in worker processes (app/server/executors/local.py): a worker killed with SIGKILL takes only
its own run, which says so and resumes from its checkpoint; runs at once get a process each and map
the one shared copy of MNIST, which the server reads too (its loaded copy let go); an exception
inside a worker fails that run only; an ended run lets go of what it trained with."""

from __future__ import annotations

import gc
import os
import signal
import weakref
from pathlib import Path

import pytest

from app.nn.network import Network
from app.server.runs import RunManager
from app.training.config import TrainConfig
from app.training.mnist import Mnist, Split
from tests.support.procs import cpu_ticks, memory, rss_mb, server_pid
from tests.support.procs import workers_of as children
from tests.support.server import running_server
from tests.support.wait import wait_until
from tests.test_persistence import call

# A run slow enough to be caught mid-way: 2,000 examples an epoch at 2,000 examples a second.
PACED = {"hidden": [16, 16], "train_subset": 2000, "validation_size": 100, "epochs": 30, "pace": 2000}
TINY = TrainConfig(hidden=[16], train_subset=200, epochs=1)


def workers_of(port: int) -> list[int]:
    """Return the pids of the worker processes of the server listening on `port` (found in /proc:
    children of that server made by multiprocessing's spawn, not its resource tracker)."""
    return children(server_pid(port))


def test_kill_9_of_a_worker_interrupts_its_run_only_and_it_resumes(tmp_path: Path):
    with running_server("--no-train", "--executor", "process", state_dir=tmp_path / "state") as url:
        port = int(url.rsplit(":", 1)[1])
        _, doomed = call(f"{url}/api/runs", "POST", {**PACED, "name": "doomed"})
        _, other = call(f"{url}/api/runs", "POST", {**PACED, "epochs": 3, "name": "other"})
        run = lambda i: call(f"{url}/api/runs/{i}")[1]   # noqa: E731
        # Past its first epoch's end, so it has a checkpoint to come back to.
        wait_until(lambda: run(doomed["id"]), lambda r: r["progress"]["epoch"] >= 1.2)
        wait_until(lambda: run(other["id"]), lambda r: r["progress"]["step"] > 0)
        pids = wait_until(lambda: workers_of(port), lambda p: len(p) == 2, what="two worker processes")
        # Which worker trains `doomed`? Pause `other`: the one whose CPU time stands still is its.
        call(f"{url}/api/runs/{other['id']}/pause", "POST")
        ticks = {pid: cpu_ticks(pid) for pid in pids}
        [victim] = wait_until(lambda: [p for p in pids if cpu_ticks(p) > ticks[p] + 20],
                              lambda moving: len(moving) == 1, what="one worker still training")
        os.kill(victim, signal.SIGKILL)
        interrupted = wait_until(lambda: run(doomed["id"]), lambda r: r["status"] != "running")
        assert interrupted["status"] == "interrupted", interrupted
        assert f"pid {victim}" in interrupted["error"] and "SIGKILL" in interrupted["error"]
        assert "resume" in interrupted["error"]
        # Nothing else was touched: the server answers, the other run goes on where it was.
        assert call(f"{url}/api/health")[0] == 200
        assert run(other["id"])["status"] == "paused"
        call(f"{url}/api/runs/{other['id']}/resume", "POST")
        assert wait_until(lambda: run(other["id"]), lambda r: r["status"] == "finished")["metrics"]["final"]
        # Resumed, it trains on (in a fresh worker) from the start of its checkpoint's epoch.
        assert call(f"{url}/api/runs/{doomed['id']}/resume", "POST")[0] == 200
        again = wait_until(lambda: run(doomed["id"]), lambda r: r["progress"]["epoch"] >= 2.2)
        assert again["status"] == "running"
        assert victim not in workers_of(port)
        call(f"{url}/api/runs/{doomed['id']}/stop", "POST")
        assert wait_until(lambda: run(doomed["id"]), lambda r: r["status"] == "stopped")["metrics"]["final"]


@pytest.fixture
def four(mnist):
    manager = RunManager(4, data_loader=lambda: mnist, executor="process")
    yield manager
    manager.shutdown()


def test_four_runs_train_in_four_processes_that_share_mnist(four):
    # 5,000 examples each: a run's own epoch buffers (the shuffled inputs, 3 MB a copy) stay small beside
    # MNIST's 220 MB, so a worker that copied MNIST could not hide it.
    config = TrainConfig(hidden=[16, 16], epochs=30, pace=5000, train_subset=5000)
    runs = [four.create(config) for _ in range(4)]
    for run in runs:
        wait_until(lambda r=run: r.latest, lambda p: p is not None and p.step > 0, what=f"{run.id} training")
    executor = four.executor()
    pids = executor.pids()
    assert len(pids) == 4 and os.getpid() not in pids
    shared = executor.shared()   # type: ignore[attr-defined]
    names = {item["name"] for item in shared.spec}
    for pid in pids:
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert all(f"/dev/shm/{name}" in maps for name in names), f"worker {pid} does not map MNIST"
        # Its own memory is what one run costs; a copy of MNIST (the 188 MB training images alone)
        # would be private to it.
        mem = memory(pid)
        private = mem["Private_Clean"] + mem["Private_Dirty"]
        assert private * 1024 < shared.nbytes / 2, (pid, mem, shared.nbytes)
    for run in runs:
        four.stop(run.id)
    for run in runs:
        wait_until(lambda r=run: r.status, lambda s: s == "stopped", what=f"{run.id} stopped")


def test_the_server_reads_the_shared_pages_and_lets_its_loaded_copy_go(mnist):
    loaded: list[weakref.ref] = []

    def load() -> Mnist:   # a copy of its own, as a server reads from disk (the fixture's is cached)
        data = Mnist(Split(mnist.train.images.copy(), mnist.train.labels), mnist.test, mnist.checksums)
        loaded.append(weakref.ref(data.train.images))
        return data

    manager = RunManager(1, data_loader=load, executor="process")
    try:
        assert manager.data().train.images.flags.writeable   # before any run: the loaded copy
        run = manager.create(TINY)
        wait_until(lambda: run.status, lambda s: s == "finished", what="a run in a worker")
        shared = manager.executor().shared_data()
        assert shared is not None and manager.data() is shared and not shared.train.images.flags.writeable
        gc.collect()
        assert len(loaded) == 1 and loaded[0]() is None, "the server still holds the MNIST it loaded"
    finally:
        manager.shutdown()


def test_an_exception_in_a_worker_fails_that_run_and_the_next_trains(mnist):
    manager = RunManager(1, data_loader=lambda: mnist, executor="process")
    try:
        first = manager.create(TrainConfig(hidden=[16], epochs=30, pace=1000))
        queued = manager.create(TINY)
        # Weights that do not fit its network: the worker's Trainer raises, the worker lives on.
        queued.resume_from = (Network([784, 5, 10]), 0)
        wait_until(lambda: first.latest, lambda p: p is not None, what="the first run training")
        manager.stop(first.id)
        wait_until(lambda: queued.status, lambda s: s == "failed", what="the bad run failed")
        assert queued.error is not None and queued.error.startswith("ValueError: sizes [784, 16, 10] need")
        after = manager.create(TINY)
        wait_until(lambda: after.status, lambda s: s == "finished", what="a run after the failure")
        assert after.latest is not None and after.latest.final
    finally:
        manager.shutdown()


@pytest.mark.parametrize("executor", ["process", "thread"])
def test_ended_runs_keep_their_results_not_their_training(mnist, executor):
    """Issue 15: an ended run keeps its metrics, final weights and replay, nothing else."""
    manager = RunManager(2, data_loader=lambda: mnist, executor=executor)

    def end_runs(n: int) -> None:
        runs = [manager.create(TINY) for _ in range(n)]
        for run in runs:
            wait_until(lambda r=run: r.status, lambda s: s == "finished", what=f"{run.id} finished")
            assert run.trainer is None and run.thread is None and run.latest is not None

    try:
        end_runs(5)
        gc.collect()   # the same start for both measures; the runs' own release is what is tested
        after_5 = rss_mb()
        end_runs(45)
        after_50 = rss_mb()
        assert after_50 - after_5 < 50, f"{executor}: {after_5:.0f} MB after 5 runs, {after_50:.0f} after 50"
        assert len(manager.list()) == 50 and all(r.latest is not None for r in manager.list())
    finally:
        manager.shutdown()
