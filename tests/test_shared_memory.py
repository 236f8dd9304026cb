"""Too small a /dev/shm (a container's default is 64 MB) must never kill the server with SIGBUS: MNIST
goes to files on disk the workers map instead (or, failing that, a copy per worker), the server says so
in its log and GET /api/health, and runs still train in worker processes. On real tmpfs mounts, made
by this test (root: the CI container runs as root), and a real server in a mount namespace of its own
whose /dev/shm is 64 MB, as `docker run` without --shm-size gives."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import app.server.executors.shared as shared_module
from app.server.executors.shared import FIELDS, PREFIX, SharedMnist, attach, remove_abandoned
from app.server.runs import RunManager
from app.training.config import TrainConfig
from app.training.mnist import Mnist
from tests.support.procs import memory
from tests.support.server import REPO, serve
from tests.support.tmpfs import tmpfs
from tests.support.wait import wait_until
from tests.test_persistence import call
from tests.test_workers import workers_of

pytestmark = pytest.mark.slow


def in_small_shm(*command: str, size: str = "64m") -> list[str]:
    """Return `command` run in a mount namespace of its own whose /dev/shm is a tmpfs of `size`."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            f'mount -t tmpfs -o size={size} tmpfs /dev/shm && exec "$@"', "sh", *command]


def arrays(data: Mnist) -> list[np.ndarray]:
    return [data.train.images, data.train.labels, data.test.images, data.test.labels]


def test_shared_memory_when_it_fits(mnist):
    shared = SharedMnist(mnist)
    try:
        assert shared.mode == "shm" and shared.warning is None
        assert all("name" in item for item in shared.spec)
        assert all(np.array_equal(a, b) for a, b in zip(arrays(shared.data), arrays(mnist), strict=True))
    finally:
        shared.close()


def test_too_little_shared_memory_shares_files_and_says_how_to_fix_it(mnist, tmp_path):
    with tmpfs(tmp_path / "shm", "64m") as small, tmpfs(tmp_path / "disk", "400m") as disk:
        (disk / f"{PREFIX}abandoned").mkdir()           # a server killed with -9 left it
        (disk / f"{PREFIX}abandoned" / "owner.lock").touch()
        shared = SharedMnist(mnist, shm_dir=small, file_dir=disk)
        try:
            assert shared.mode == "files" and shared.warning is not None
            assert "64 MB free" in shared.warning and "--shm-size=512m" in shared.warning
            assert not (disk / f"{PREFIX}abandoned").exists()
            folder = Path(shared.spec[0]["path"]).parent
            assert folder.parent == disk and {item["field"] for item in shared.spec} == set(FIELDS)
            remove_abandoned(disk)                          # a live server's folder is kept
            assert folder.exists()
            data, blocks = attach(shared.spec, shared.checksums)   # as a worker does
            assert blocks == [] and all(not a.flags.writeable for a in arrays(data))
            assert all(np.array_equal(a, b) for a, b in zip(arrays(data), arrays(mnist), strict=True))
            del data
        finally:
            shared.close()
        assert not folder.exists()


def test_no_room_on_disk_either_gives_each_worker_a_copy(mnist, tmp_path):
    with tmpfs(tmp_path / "shm", "64m") as small, tmpfs(tmp_path / "disk", "64m") as disk:
        shared = SharedMnist(mnist, shm_dir=small, file_dir=disk)
        try:
            assert shared.mode == "copies" and shared.warning is not None
            assert "each worker gets a copy" in shared.warning and "--shm-size" in shared.warning
            assert list(disk.iterdir()) == []                # the half-written folder is gone
            data, _ = attach(shared.spec, shared.checksums)
            assert all(np.array_equal(a, b) for a, b in zip(arrays(data), arrays(mnist), strict=True))
        finally:
            shared.close()


def test_pages_are_reserved_before_written_so_a_full_shm_is_an_error_not_sigbus(tmp_path):
    # The free-space check passes (it looks at a roomy folder) while the real /dev/shm, 190 MB, holds the
    # training images (179 MB) but not the test images after them: the blocks' reservation must catch
    # it, and the blocks made so far go. Without it this process dies of SIGBUS (exit -7).
    script = ("from pathlib import Path; from app.server.executors.shared import SharedMnist; "
              "from app.training.mnist import read_mnist; "
              f"s = SharedMnist(read_mnist(), shm_dir=Path('/'), file_dir=Path({str(tmp_path)!r})); "
              "print(s.mode); print(s.warning); s.close()")
    command = in_small_shm(sys.executable, "-c", script, size="190m")
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "mount" in done.stderr and "permission" in done.stderr.lower():
        pytest.skip(f"cannot make a mount namespace here: {done.stderr.strip()}")
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    mode, warning = done.stdout.splitlines()[:2]
    assert mode == "files" and "No space left on device" in warning, done.stdout


def test_a_server_with_a_64_mb_shm_stays_up_and_trains_in_a_worker(tmp_path):
    log = tmp_path / "server.log"
    with serve(tmp_path / "state", "--no-train", "--executor", "process", log=log,
               prefix=in_small_shm()) as server:
        url, port = server.url, server.port
        rid = call(f"{url}/api/runs", "POST", {"hidden": [16, 16], "epochs": 30, "pace": 2000,
                                               "train_subset": 2000})[1]["id"]   # type: ignore[index]
        run = wait_until(lambda: call(f"{url}/api/runs/{rid}")[1],
                         lambda r: r["progress"]["examples_seen"] >= 4000, what="a first epoch")
        assert run["status"] == "running" and server.proc.poll() is None
        problems = call(f"{url}/api/health")[1]["problems"]   # type: ignore[index]
        assert any("64 MB free" in p and "--shm-size=512m" in p for p in problems), problems
        # It trains in a worker process, which maps the files, not a copy of its own.
        workers = workers_of(port)
        assert len(workers) == 1, workers
        maps = Path(f"/proc/{workers[0]}/maps").read_text().splitlines()
        assert len({line.split()[-1] for line in maps if PREFIX in line}) == len(FIELDS), maps
        # A copy of its own would be anonymous memory (the 188 MB of training images); mapped file pages
        # count as private while one process alone has touched them, so Private_* cannot tell here.
        mem = memory(workers[0])
        assert mem["Anonymous"] * 1024 < 100 * 2**20, mem
        assert "WARNING" in log.read_text() and "docker run --shm-size=512m" in log.read_text()
        server.proc.terminate()   # asked here, given its 30 s to stop cleanly (serve's own stop gives 5)
        server.proc.wait(timeout=30)
    assert "Application shutdown complete" in log.read_text(), log.read_text()[-3000:]   # a clean stop


def test_with_no_room_anywhere_a_run_still_trains_in_a_worker(mnist, tmp_path, monkeypatch):
    with tmpfs(tmp_path / "shm", "64m") as small, tmpfs(tmp_path / "disk", "64m") as disk:
        monkeypatch.setattr(shared_module, "SHM_DIR", small)
        monkeypatch.setattr(tempfile, "tempdir", str(disk))
        manager = RunManager(1, data_loader=lambda: mnist, executor="process")
        try:
            run = manager.create(TrainConfig(hidden=[16], train_subset=2000, epochs=1))
            wait_until(lambda: run.status, lambda s: s == "finished", what="a run in a worker")
            assert run.latest is not None and run.latest.final and run.latest.examples_seen == 2000
            executor = manager.executor()
            assert executor.shared().mode == "copies" and executor.pids()   # type: ignore[attr-defined]
            assert any("each worker gets a copy" in p for p in manager.bench.problems)
        finally:
            manager.shutdown()
