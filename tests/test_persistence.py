"""Persistence: a real server killed with SIGKILL mid-training comes back with every run, its
history, its checkpoint and every saved model; interrupted runs resume from their last checkpoint."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.server import serve
from tests.support.sse import strict_json
from tests.support.wait import DEADLINE, run_reaches, wait_until

pytestmark = pytest.mark.slow

# ~300 steps an epoch: an epoch ends every fraction of a second, and 200 of them outlast the test.
LONG = {"hidden": [16], "train_subset": 3000, "validation_size": 500, "batch_size": 10, "epochs": 200,
        "name": "long"}
SHORT = {"hidden": [16], "train_subset": 1000, "validation_size": 500, "batch_size": 10, "epochs": 1}


def call(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, strict_json(r.read().decode())
    except urllib.error.HTTPError as exc:
        return exc.code, strict_json(exc.read().decode())


def wait_for(url: str, run_id: str, predicate, timeout: float = DEADLINE) -> dict:
    """Return the run once `predicate` holds for it, as GET /api/runs/{id} shows it."""
    return run_reaches(lambda i: call(f"{url}/api/runs/{i}")[1], run_id, predicate, timeout)  # type: ignore[return-value]


def stored_points(state: Path, run_id: str) -> list[dict]:
    """Return the run's metrics points as the server's database holds them right now (read-only,
    beside the running server: WAL allows it)."""
    db = sqlite3.connect(f"file:{state / 'state.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT point FROM metrics WHERE run_id = ? ORDER BY rowid", (run_id,)).fetchall()
    finally:
        db.close()
    return [strict_json(point) for point, in rows]


def test_kill_9_mid_training_loses_no_run_history_or_model(tmp_path: Path, mnist):
    state = tmp_path / "state"
    digit = mnist.test.images[0].tolist()
    with serve(state, "--no-train", log=tmp_path / "server-1.log") as server:
        url = server.url
        _, short = call(f"{url}/api/runs", "POST", SHORT)
        wait_for(url, short["id"], lambda r: r["status"] == "finished")
        status, saved = call(f"{url}/api/runs/{short['id']}/save", "POST", {"name": "keeper"})
        assert status == 201, saved
        _, before_predict = call(f"{url}/api/predict?model=keeper", "POST", {"pixels": digit})
        _, short_history = call(f"{url}/api/runs/{short['id']}/history")
        _, long = call(f"{url}/api/runs", "POST", LONG)
        wait_for(url, long["id"], lambda r: r["progress"]["epoch"] >= 3.2)
        # Points reach the database in batches: wait until three epoch ends are written there.
        stored = wait_until(lambda: stored_points(state, long["id"]),
                            lambda points: sum(p["epoch_end"] for p in points) >= 3, what="3 stored epochs")
        server.proc.kill()       # SIGKILL: no shutdown handler, no last flush
        server.proc.wait(timeout=5)
    assert (state / "checkpoints" / f"{long['id']}.npz").is_file()
    # A kill in the middle of a checkpoint write leaves its temporary file (the checkpoint it was to
    # replace is whole: writes are rename-into-place); the next start sweeps such files away.

    with serve(state, "--no-train", log=tmp_path / "server-2.log") as server:
        url = server.url
        assert not list(state.rglob(".*.tmp"))
        _, runs = call(f"{url}/api/runs")
        assert [r["id"] for r in runs] == [long["id"], short["id"]]
        interrupted, finished = runs
        assert interrupted["status"] == "interrupted" and "resume" in interrupted["error"]
        assert finished["status"] == "finished" and finished["error"] is None
        _, history = call(f"{url}/api/runs/{long['id']}/history")
        points = history["points"]
        # Everything written before the kill is back, as it was (a batch written after we looked may
        # be back too; the points after the last batch are lost with the process).
        assert points[:len(stored)] == stored and sum(p["epoch_end"] for p in points) >= 3
        assert call(f"{url}/api/runs/{short['id']}/history")[1] == short_history
        # The saved model and the finished run's weights are back, unchanged.
        assert call(f"{url}/api/predict?model=keeper", "POST", {"pixels": digit})[1] == before_predict
        status, by_run = call(f"{url}/api/predict?run={short['id']}", "POST", {"pixels": digit})
        assert status == 200 and by_run["activations"] == before_predict["activations"]
        assert call(f"{url}/api/health")[1]["problems"] == []

        # Resume: it continues from the start of the checkpoint's epoch, not from zero.
        checkpoint_epoch = int(interrupted["progress"]["epoch"])
        assert checkpoint_epoch >= 3
        status, resumed = call(f"{url}/api/runs/{long['id']}/resume", "POST")
        assert status == 200 and resumed["status"] in ("queued", "running") and resumed["error"] is None
        run = wait_for(url, long["id"], lambda r: r["progress"]["epoch"] >= checkpoint_epoch + 1.5)
        assert run["metrics"]["test_accuracy"] > 0.8   # trained weights, not a fresh network
        _, history = call(f"{url}/api/runs/{long['id']}/history")
        steps = [p["step"] for p in history["points"]]
        assert all(a < b for a, b in zip(steps, steps[1:], strict=False))   # no epoch recorded twice
        assert sum(p["epoch_end"] for p in history["points"]) >= checkpoint_epoch + 1
        assert call(f"{url}/api/runs/{long['id']}/resume", "POST")[0] == 409   # running, not paused
        _, new = call(f"{url}/api/runs", "POST", SHORT)
        assert new["id"] == "r3"   # ids go on from the stored ones
        call(f"{url}/api/runs/{long['id']}/stop", "POST")
        wait_for(url, long["id"], lambda r: r["status"] == "stopped")


def test_a_graceful_stop_leaves_runs_interrupted_and_resumable(tmp_path: Path):
    state = tmp_path / "state"
    with serve(state, "--no-train", log=tmp_path / "server-1.log") as server:
        url = server.url
        _, long = call(f"{url}/api/runs", "POST", LONG)
        wait_for(url, long["id"], lambda r: r["progress"]["epoch"] >= 1.0)
        assert call(f"{url}/api/runs/{long['id']}/pause", "POST")[0] == 200
        paused_at = call(f"{url}/api/runs/{long['id']}")[1]["progress"]["epoch"]  # type: ignore[index]
        # A graceful stop: SIGTERM, and up to 15 s for the shutdown to finish (serve's own stop would
        # SIGKILL a server still stopping after 5 s, which is the other test's case).
        server.proc.terminate()
        server.proc.wait(timeout=15)
    with serve(state, "--no-train", log=tmp_path / "server-2.log") as server:
        url = server.url
        _, run = call(f"{url}/api/runs/{long['id']}")
        assert run["status"] == "interrupted"
        # The pause wrote a checkpoint: the run is back where it was paused (or a report later).
        assert run["progress"]["epoch"] >= paused_at
        assert call(f"{url}/api/runs/{long['id']}/resume", "POST")[0] == 200
        wait_for(url, long["id"], lambda r: r["status"] == "running" and r["progress"]["epoch"] > paused_at)
        call(f"{url}/api/runs/{long['id']}/stop", "POST")
