"""Faults inside runs: divergence and exceptions end that run only, with a status and a
message; nothing NaN is ever served; the last good weights are kept; the server and other runs go on."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.nn.optim import SGD
from app.server.main import create_app
from app.server.runs import RunManager
from app.server.settings import Settings
from app.training.modelfile import load_model
from tests.support.server import serve
from tests.support.sse import sse_events
from tests.support.wait import DEADLINE, run_reaches
from tests.test_persistence import SHORT, call, wait_for

pytestmark = pytest.mark.slow

DIVERGES = {"hidden": [64, 64, 64], "activation": "relu", "cost": "cross_entropy", "learning_rate": 100,
            "momentum": 0.9, "train_subset": 2000, "validation_size": 100, "epochs": 2}
TARGET = [17]   # the hidden layer that marks the run a fault is injected into


def test_divergence_on_a_real_server_ends_that_run_only(tmp_path: Path):
    state, log = tmp_path / "state", tmp_path / "server.log"
    with serve(state, "--no-train", log=log) as server:
        url = server.url
        _, bad = call(f"{url}/api/runs", "POST", DIVERGES)
        _, good = call(f"{url}/api/runs", "POST", SHORT)
        with urllib.request.urlopen(f"{url}/api/runs/{bad['id']}/events", timeout=30) as r:
            events = sse_events(r)                                     # strict: no NaN may appear
        assert events[-1][1]["status"] == "diverged"                  # type: ignore[index]
        run = wait_for(url, bad["id"], lambda r: r["status"] == "diverged")
        assert "diverged" in run["error"] and "smaller learning rate" in run["error"]
        call(f"{url}/api/runs/{bad['id']}/history")                  # strict parse again
        finished = wait_for(url, good["id"], lambda r: r["status"] == "finished")
        assert finished["metrics"]["test_accuracy"] > 0.5
        assert call(f"{url}/api/health")[0] == 200
    with serve(state, "--no-train", log=log) as server:   # an ended run stays what it was after a restart
        url = server.url
        _, run = call(f"{url}/api/runs/{bad['id']}")
        assert run["status"] == "diverged" and "smaller learning rate" in run["error"]


@pytest.fixture
def persistent_client(tmp_path: Path, small_model_dir: Path, mnist):
    settings = Settings(train_on_start=False, state_dir=tmp_path / "state", models_dir=small_model_dir)
    # The faults are injected by patching this process's SGD, so the Trainer must run here: the thread
    # executor. (tests/test_workers.py makes a run fail inside a worker process.)
    manager = RunManager(settings.max_concurrent_runs, data_loader=lambda: mnist,
                         state_dir=settings.state_dir, executor="thread")
    with TestClient(create_app(settings, manager=manager)) as client:
        yield client, settings


def inject(monkeypatch, fault) -> None:
    """Make the Trainer's step (SGD.step_function's) call fault(optimizer, step number) for the TARGET
    run's network only."""
    real_step_function, counts = SGD.step_function, {}

    def step_function(self, batch):
        step = real_step_function(self, batch)
        if self.net.sizes[1:-1] != TARGET:
            return step

        def faulty(x, y_t, rate):
            counts[id(self)] = counts.get(id(self), 0) + 1
            fault(self, counts[id(self)])
            return step(x, y_t, rate)
        return faulty
    monkeypatch.setattr(SGD, "step_function", step_function)


def until(client, run_id: str, predicate, timeout: float = DEADLINE) -> dict:
    """Return the run once `predicate` holds for it, as GET /api/runs/{id} shows it."""
    return run_reaches(lambda i: client.get(f"/api/runs/{i}").json(), run_id, predicate, timeout)


def test_weights_that_turn_to_nan_keep_the_last_good_ones(persistent_client, monkeypatch, mnist):
    client, settings = persistent_client

    def poison(sgd, n):
        if n == 1000:   # in the third epoch: two epoch ends (reports, checkpoints) had good weights
            sgd.net.params[0] = np.nan
    inject(monkeypatch, poison)
    config = {**SHORT, "hidden": TARGET, "train_subset": 4000, "epochs": 3}
    run_id = client.post("/api/runs", json=config).json()["id"]
    run = until(client, run_id, lambda r: r["status"] not in ("queued", "running"))
    assert run["status"] == "diverged" and "last good weights were kept" in run["error"]
    assert run["metrics"] is not None and 800 <= run["progress"]["step"] < 1000
    r = client.post(f"/api/predict?run={run_id}", json={"pixels": mnist.test.images[0].tolist()})
    assert r.status_code == 200 and np.all(np.isfinite(r.json()["activations"]))
    net, meta = load_model(settings.state_dir / "checkpoints" / f"{run_id}.npz")   # refuses NaN
    assert meta["step"] == run["progress"]["step"]
    json.dumps(client.get(f"/api/runs/{run_id}/history").json(), allow_nan=False)


def test_an_exception_in_a_run_fails_it_and_the_rest_goes_on(persistent_client, monkeypatch, tmp_path, mnist):
    client, settings = persistent_client

    def explode(sgd, n):
        if n == 300:
            raise RuntimeError("injected fault: the disk under the training data went away")
    inject(monkeypatch, explode)
    other = client.post("/api/runs", json={**SHORT, "train_subset": 3000, "epochs": 2}).json()["id"]
    doomed = client.post("/api/runs", json={**SHORT, "hidden": TARGET, "train_subset": 3000}).json()["id"]
    failed = until(client, doomed, lambda r: r["status"] == "failed")
    assert failed["error"] == "RuntimeError: injected fault: the disk under the training data went away"
    assert until(client, other, lambda r: r["status"] == "finished")["metrics"]["final"] is True
    # A queued run takes the freed slot, and the server still answers.
    after = client.post("/api/runs", json=SHORT).json()["id"]
    until(client, after, lambda r: r["status"] == "finished")
    assert client.get("/api/health").json()["runs"] == 3
    assert client.post("/api/predict", json={"pixels": mnist.test.images[0].tolist()}).status_code == 200
    # The failure is on record for the next start.
    again = RunManager(state_dir=settings.state_dir)
    assert again.get(doomed).status == "failed" and "injected fault" in (again.get(doomed).error or "")
    again.shutdown()
