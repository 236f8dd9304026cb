"""Faults on disk: corrupt checkpoints, model files and databases are reported and skipped
while the server starts; a model save killed with SIGKILL leaves the old model or the new one, whole."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from app.nn.network import Network
from app.server.checkpoints import Checkpoints
from app.server.models import ModelRegistry
from app.server.store import FILENAME, Store
from app.training.config import TrainConfig
from app.training.modelfile import load_model, save_model
from app.training.trainer import Progress
from tests.support.server import REPO, serve
from tests.test_persistence import SHORT, call, wait_for

pytestmark = pytest.mark.slow


def progress_of(net: Network, epoch: float) -> Progress:
    return Progress(step=int(epoch * 100), epoch=epoch, examples_seen=int(epoch * 1000), batch_cost=0.1,
                    learning_rate=3.0, examples_per_second=1e4, train_seconds=1.0, snapshot=net,
                    test_cost=0.2, test_accuracy=0.5, evaluated=True, epoch_end=True)


def test_corrupt_checkpoint_and_model_files_are_reported_and_skipped(tmp_path: Path, mnist):
    state = tmp_path / "state"
    store, checkpoints = Store(state), Checkpoints(state / "checkpoints")
    config = TrainConfig(hidden=[8], train_subset=1000, validation_size=500, epochs=3).to_dict()
    for run_id, status in (("r1", "running"), ("r2", "finished")):
        store.save_run(run_id, run_id, status, None, config, "2026-01-01T00:00:00+00:00")
    good = Network([784, 8, 10], seed=3)
    checkpoints.write("r2", progress_of(good, 3.0), progress_of(good, 3.0).metrics(), config)
    (state / "checkpoints" / "r1.npz").write_bytes(b"PK\x03\x04 half a zip")   # torn or damaged
    models = state / "models"
    models.mkdir()
    (models / "broken.npz").write_bytes(b"\x00" * 100)
    save_model(models / "orphan.npz", good, {"name": "orphan", "created": "2026-01-01T00:00:00+00:00"})
    (models / ".orphan.npz.abc123.tmp").write_bytes(b"a save that was killed")
    store.save_model("gone", "gone.npz", {"name": "gone"})
    store.close()

    with serve(state, "--no-train", log=tmp_path / "server.log") as server:
        url = server.url
        _, health = call(f"{url}/api/health")
        problems = " | ".join(health["problems"])
        assert "r1" in problems and "checkpoint" in problems, problems
        assert "broken.npz" in problems and "gone" in problems and "orphan" not in problems
        _, runs = call(f"{url}/api/runs")
        by_id = {r["id"]: r for r in runs}
        assert by_id["r1"]["status"] == "interrupted" and "checkpoint unreadable" in by_id["r1"]["error"]
        assert by_id["r2"]["status"] == "finished" and by_id["r2"]["progress"]["epoch"] == 3.0
        digit = {"pixels": mnist.test.images[0].tolist()}
        status, answer = call(f"{url}/api/predict?run=r2", "POST", digit)
        expected = good.forward(mnist.test.images[:1])[-1][0]
        assert status == 200 and np.allclose(answer["activations"], expected, atol=1e-4)
        names = [m["name"] for m in call(f"{url}/api/models")[1]]
        assert "orphan" in names and "broken" not in names   # a whole file without its row is adopted
        assert not (models / ".orphan.npz.abc123.tmp").exists()
        # The run whose checkpoint was unreadable can still be resumed: from scratch.
        status, resumed = call(f"{url}/api/runs/r1/resume", "POST")
        assert status == 200, resumed
        wait_for(url, "r1", lambda r: r["status"] == "finished")
    assert "orphan" in Store(state).models()


def test_an_unreadable_database_is_moved_aside_and_the_server_starts(tmp_path: Path):
    state = tmp_path / "state"
    state.mkdir()
    (state / FILENAME).write_bytes(b"this is not SQLite" * 500)
    with serve(state, "--no-train", log=tmp_path / "server.log") as server:
        url = server.url
        _, health = call(f"{url}/api/health")
        assert health["runs"] == 0 and "could not be read" in " ".join(health["problems"])
        _, run = call(f"{url}/api/runs", "POST", SHORT)
        assert run["id"] == "r1"
        wait_for(url, "r1", lambda r: r["status"] == "finished")
    (aside,) = state.glob(f"{FILENAME}.corrupt-*")
    with closing(sqlite3.connect(state / FILENAME)) as db:   # the new database is in WAL mode
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert aside.read_bytes().startswith(b"this is not SQLite")
    assert [r.status for r in Store(state).runs()] == ["finished"]


SAVER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import numpy.lib.format
    from app.nn.network import Network
    from app.server.models import ModelRegistry
    from app.server.store import Store
    state, kill_at = sys.argv[1], sys.argv[2]
    registry = ModelRegistry(state + "/shipped", state + "/models")
    registry.attach(Store(state))

    def die_before(owner, name, nth=1):
        # SIGKILL this process at the nth call of owner.name: no handler, no cleanup, as a power cut.
        real, calls = getattr(owner, name), []
        def wrapper(*args, **kwargs):
            calls.append(1)
            if len(calls) == nth:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        setattr(owner, name, wrapper)

    registry.save("m", Network([784, 256, 10], seed=1), {"name": "m", "version": 0})
    if kill_at == "mid-write":         # the weights are in the temporary file, the metadata not yet
        die_before(numpy.lib.format, "write_array", nth=2)
    elif kill_at == "fsync":           # the file is written but maybe not on disk
        die_before(os, "fsync")
    elif kill_at == "rename":          # the file is whole and synced, not yet in place
        die_before(os, "replace")
    elif kill_at == "row":             # the file is in place, the registry row still the old one
        die_before(Store, "save_model")
    registry.save("m", Network([784, 256, 10], seed=2), {"name": "m", "version": 1})
    print("not killed", flush=True)
""")


@pytest.mark.parametrize("kill_at, version", [("mid-write", 0), ("fsync", 0), ("rename", 0), ("row", 1)])
def test_a_model_save_killed_midway_leaves_a_whole_model(tmp_path: Path, kill_at: str, version: int):
    """A save killed at each of its steps leaves the old model or the new one, whole (never a mix),
    and a registry row that follows the file."""
    state = tmp_path / "state"
    proc = subprocess.run([sys.executable, "-c", SAVER, str(state), kill_at], cwd=REPO, capture_output=True,
                          timeout=120)
    assert proc.returncode == -9, (proc.returncode, proc.stdout, proc.stderr[-2000:])   # killed there
    net, meta = load_model(state / "models" / "m.npz")
    assert meta["version"] == version
    assert np.array_equal(net.params, Network([784, 256, 10], seed=1 + version).params)   # whole, not mixed
    registry = ModelRegistry(tmp_path / "none", state / "models")
    store = Store(state)
    registry.attach(store)
    assert registry.problems() == [] and [m.name for m in registry.list()] == ["m"]
    assert not list((state / "models").glob(".*.tmp"))
    row = json.loads(json.dumps(store.models()["m"]))
    assert row["file"] == "m.npz" and row["meta"]["version"] == meta["version"]   # row follows the file
