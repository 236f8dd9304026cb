"""A run that learns nothing says so when it ends (its `warning`), and predict on such a network names
no digit (digit null, with a note) instead of answering 0 from outputs that are all alike."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.wait import wait_until

# The largest learning rate allowed: on 20,000 examples (the stuck check's fair while) the sigmoid net
# saturates to all-zero outputs, the ReLU one answers confidently and is right one time in ten.
STUCK = {"learning_rate": 100.0, "epochs": 1, "train_subset": 20_000, "validation_size": 0, "batch_size": 10}


def one_pixels() -> list[list[float]]:
    """Return a 28x28 vertical stroke, a 1 as MNIST draws it."""
    x = np.zeros((28, 28))
    x[5:23, 13:15] = 1.0
    return x.tolist()


def finished(client, body: dict) -> dict:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 201, r.text
    return wait_until(lambda: client.get(f"/api/runs/{r.json()['id']}").json(),
                      lambda run: run["status"] not in ("queued", "running"), what="the run to end")


@pytest.mark.parametrize("recipe,flat", [({"activation": "sigmoid", "cost": "quadratic"}, True),
                                         ({"activation": "relu", "cost": "cross_entropy"}, False)],
                         ids=["sigmoid-all-zero", "relu-confident"])
def test_a_stuck_run_ends_saying_so_and_predict_names_no_digit(client, recipe, flat):
    run = finished(client, {**STUCK, **recipe})
    assert run["status"] == "finished", run
    assert run["metrics"]["test_accuracy"] < 0.2
    assert run["warning"] is not None and run["warning"]["code"] == "stuck", run["warning"]
    assert "chance" in run["warning"]["message"] or "labels" in run["warning"]["message"]

    r = client.post(f"/api/predict?run={run['id']}", json={"pixels": one_pixels()})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["digit"] is None and answer["note"], answer
    assert len(answer["activations"]) == 10
    if flat:   # the outputs themselves say it: all alike
        outputs = answer["activations"]
        assert "untrained" in answer["note"] and max(outputs) - min(outputs) < 1e-4
    else:      # the outputs look like an answer; the run's warning says it is not one
        assert f"run {run['id']} has not learned" in answer["note"], answer["note"]

    saved = client.post(f"/api/runs/{run['id']}/save", json={"name": f"stuck-{recipe['activation']}"})
    assert saved.status_code == 201, saved.text
    r = client.post(f"/api/predict?model=stuck-{recipe['activation']}", json={"pixels": one_pixels()})
    assert r.status_code == 200 and r.json()["digit"] is None, r.text
    assert "untrained" in r.json()["note"] or "no better than guessing" in r.json()["note"], r.json()


def test_a_trained_model_still_names_its_digit_with_no_note(client):
    r = client.post("/api/predict", json={"pixels": one_pixels()})
    assert r.status_code == 200, r.text
    assert r.json()["digit"] == 1 and r.json()["note"] is None, r.json()


def test_the_live_channel_names_no_digit_for_a_network_that_learned_nothing(client):
    """The live `activations` answer follows predict: all-alike outputs name no digit, with a note."""
    run = finished(client, {**STUCK, "activation": "sigmoid", "cost": "quadratic"})
    with client.websocket_connect(f"/api/runs/{run['id']}/live") as ws:
        ws.send_json({"type": "draw", "pixels": np.ravel(one_pixels()).tolist()})
        while (message := ws.receive_json())["type"] != "activations":
            assert message["type"] != "error", message
    assert message["digit"] is None and "untrained" in message["note"], message


def test_the_lessons_runs_respect_the_queue_bound(client, monkeypatch):
    """Starting a lesson's runs when the queue is full is a 429 with Retry-After, like POST /api/runs."""
    monkeypatch.setattr("app.server.api.routes.runs.MAX_QUEUED_RUNS", 0)
    r = client.post("/api/lessons/runs/many-valleys", params={"seeds": 2})
    assert r.status_code == 429 and r.headers["retry-after"], r.text
    assert "waiting for a training slot" in r.json()["detail"]
    assert client.get("/api/lessons/runs/many-valleys", params={"seeds": 2}).json()["created"] == []
