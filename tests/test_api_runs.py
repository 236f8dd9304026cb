"""The runs API: create (with bounds), list, inspect, history, pause/resume/stop, queue, save, SSE."""

from __future__ import annotations

import numpy as np
import pytest

from app.training.trainer import COST_SAMPLE_EVERY
from tests.support.sse import sse_events
from tests.support.wait import DEADLINE, run_reaches

SMALL = {"hidden": [16], "train_subset": 500, "epochs": 2, "validation_size": 500, "batch_size": 10}
LONG = {"hidden": [16, 16], "epochs": 50}  # the full training set: minutes per epoch at most; we stop it


def wait_for(client, run_id: str, predicate, timeout: float = DEADLINE) -> dict:
    """Return the run once `predicate` holds for it, as GET /api/runs/{id} shows it."""
    return run_reaches(lambda i: client.get(f"/api/runs/{i}").json(), run_id, predicate, timeout)


def test_create_train_and_finish(client):
    r = client.post("/api/runs", json={**SMALL, "name": "tiny"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] in ("queued", "running") and run["name"] == "tiny"
    assert run["config"]["hidden"] == [16] and run["config"]["learning_rate"] == 3.0  # defaults filled in
    done = wait_for(client, run["id"], lambda r: r["status"] == "finished")
    assert done["progress"]["epoch"] == pytest.approx(2.0)
    assert done["metrics"]["final"] is True and 0.3 < done["metrics"]["test_accuracy"] <= 1
    points = client.get(f"/api/runs/{run['id']}/history").json()["points"]
    assert points[-1] == done["metrics"] and sum(p["epoch_end"] for p in points) == 2
    assert all(None not in (p["step"], p["epoch"]) for p in points)
    assert [p["step"] for p in points] == sorted(p["step"] for p in points)


def test_list_is_newest_first_and_unknown_run_is_404(client):
    ids = [client.post("/api/runs", json=SMALL).json()["id"] for _ in range(2)]
    listed = [r["id"] for r in client.get("/api/runs").json()]
    assert listed == ids[::-1]
    for path in ("", "/history", "/events"):
        r = client.get(f"/api/runs/r999{path}")
        assert r.status_code == 404 and "r999" in r.json()["detail"]
    assert client.post("/api/runs/r999/pause").status_code == 404


@pytest.mark.parametrize("config, words", [
    ({"hidden": [16] * 5}, "at most 4"),
    ({"hidden": [2048]}, "1024"),
    ({"hidden": [0]}, "greater than or equal to 1"),
    ({"epochs": 1001}, "1000"),
    ({"epochs": 0}, "greater than or equal to 1"),
    ({"batch_size": 0}, "greater than or equal to 1"),
    ({"batch_size": 60001}, "60000"),
    ({"learning_rate": 0}, "greater than 0"),
    ({"learning_rate": 100.5}, "100"),
    ({"activation": "tanh"}, "sigmoid"),
    ({"label_mode": "random"}, "shuffled"),
    ({"hidden": "16,16"}, "list"),
    ({"colour": "red"}, "extra"),
])
def test_bounds_are_422_with_readable_messages(client, config, words):
    r = client.post("/api/runs", json=config)
    assert r.status_code == 422, r.text
    messages = " ".join(item["msg"] for item in r.json()["detail"])
    assert words.lower() in messages.lower(), messages


def test_batch_larger_than_subset_is_refused_readably(client):
    r = client.post("/api/runs", json={**SMALL, "train_subset": 20, "batch_size": 50})
    assert r.status_code == 422 and "batch size 50 exceeds" in r.json()["detail"], r.text


def test_pause_resume_stop_and_conflicts(client):
    run_id = client.post("/api/runs", json=LONG).json()["id"]
    wait_for(client, run_id, lambda r: r["progress"]["step"] > 0)
    assert client.post(f"/api/runs/{run_id}/resume").status_code == 409  # running, not paused
    assert client.post(f"/api/runs/{run_id}/pause").json()["status"] == "paused"
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "paused"
    r = client.post(f"/api/runs/{run_id}/pause")
    assert r.status_code == 409 and "paused" in r.json()["detail"]
    # The pause reaches the trainer (in a worker process, by default) before anything asked after it:
    # two single steps answered by the paused trainer itself show that nothing moved between them.
    first = client.post(f"/api/runs/{run_id}/step", json={"steps": 1}).json()
    second = client.post(f"/api/runs/{run_id}/step", json={"steps": 1}).json()
    assert first["examples_seen"] == first["examples_seen_before"] + 10
    assert second["examples_seen_before"] == first["examples_seen"], "steps went on while paused"
    step = second["run"]["progress"]["step"]
    assert client.post(f"/api/runs/{run_id}/resume").json()["status"] == "running"
    wait_for(client, run_id, lambda r: r["progress"]["step"] > step + COST_SAMPLE_EVERY)
    client.post(f"/api/runs/{run_id}/stop")
    stopped = wait_for(client, run_id, lambda r: r["status"] == "stopped")
    assert stopped["metrics"]["final"] is True
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 409


def test_queue_beyond_the_concurrency_limit(client):
    ids = [client.post("/api/runs", json=LONG).json()["id"] for _ in range(3)]
    statuses = [client.get(f"/api/runs/{i}").json()["status"] for i in ids]
    assert statuses == ["running", "running", "queued"]
    client.post(f"/api/runs/{ids[0]}/stop")
    wait_for(client, ids[2], lambda r: r["status"] == "running")  # the freed slot goes to the queue
    client.post(f"/api/runs/{ids[1]}/stop")
    client.post(f"/api/runs/{ids[2]}/stop")
    # A queued run that is stopped never starts.
    ids = [client.post("/api/runs", json=LONG).json()["id"] for _ in range(3)]
    assert client.post(f"/api/runs/{ids[2]}/stop").json()["status"] == "stopped"
    for run_id in ids[:2]:
        client.post(f"/api/runs/{run_id}/stop")


def test_save_then_predict_with_the_saved_model(client, mnist):
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    wait_for(client, run_id, lambda r: r["status"] == "finished")
    r = client.post(f"/api/runs/{run_id}/save", json={"name": "my-model"})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "saved" and r.json()["sizes"] == [784, 16, 10]
    names = {m["name"]: m["kind"] for m in client.get("/api/models").json()}
    assert names == {"default": "shipped", "my-model": "saved"}
    digit = mnist.test.images[3].tolist()
    by_model = client.post("/api/predict?model=my-model", json={"pixels": digit}).json()
    by_run = client.post(f"/api/predict?run={run_id}", json={"pixels": digit}).json()
    assert by_model["model"]["kind"] == "saved" and by_run["model"]["kind"] == "run"
    assert by_model["activations"] == pytest.approx(by_run["activations"], abs=1e-4)  # the same weights


@pytest.mark.parametrize("name, status", [("../evil", 422), ("UPPER", 422), ("", 422), ("a" * 41, 422),
                                          ("default", 409)])
def test_save_refuses_bad_names(client, name, status):
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    wait_for(client, run_id, lambda r: r["metrics"] is not None)
    r = client.post(f"/api/runs/{run_id}/save", json={"name": name})
    assert r.status_code == status, r.text


def test_save_before_any_weights_is_409(client):
    ids = [client.post("/api/runs", json=LONG).json()["id"] for _ in range(3)]
    r = client.post(f"/api/runs/{ids[2]}/save", json={"name": "early"})  # still queued
    assert r.status_code == 409 and "no weights yet" in r.json()["detail"]
    for run_id in ids:
        client.post(f"/api/runs/{run_id}/stop")


def test_events_stream_metrics_and_ends_with_the_run(client):
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    with client.stream("GET", f"/api/runs/{run_id}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.iter_lines())
    kinds = [e for e, _ in events]
    assert kinds[0] == "status" and kinds[-1] == "status" and "metrics" in kinds
    assert events[-1][1]["status"] == "finished"
    metrics = [d for e, d in events if e == "metrics"]
    assert metrics[-1]["final"] is True


def test_a_diverging_run_says_so(client):
    config = {"hidden": [64, 64, 64], "activation": "relu", "cost": "cross_entropy", "learning_rate": 100,
              "momentum": 0.9, "train_subset": 2000, "validation_size": 100, "epochs": 2}
    run_id = client.post("/api/runs", json=config).json()["id"]
    run = wait_for(client, run_id, lambda r: r["status"] not in ("queued", "running"))
    assert run["status"] == "diverged" and "smaller learning rate" in run["error"]
    # It keeps the last weights that still gave finite answers (its first reports come at the first
    # mini-batches, before it blew up): predict answers with them.
    r = client.post(f"/api/predict?run={run_id}", json={"pixels": [0.5] * 784})
    assert r.status_code == 200 and all(np.isfinite(r.json()["activations"]))


def test_history_is_thinned_but_keeps_epoch_ends():
    from app.nn.network import Network
    from app.server.runs import MAX_HISTORY, Run
    from app.training.config import TrainConfig
    from app.training.trainer import Progress

    run, net = Run("r1", "r1", TrainConfig()), Network([784, 1, 10])
    for step in range(3 * MAX_HISTORY):
        run.publish(Progress(step=step, epoch=step / 1000, examples_seen=step, batch_cost=float("nan"),
                             learning_rate=1.0, examples_per_second=1.0, train_seconds=1.0, snapshot=net,
                             epoch_end=step % 1000 == 999))
    points = run.history()
    assert MAX_HISTORY // 2 <= len(points) <= MAX_HISTORY
    assert sum(p["epoch_end"] for p in points) == 15  # every epoch end survives the thinning
    assert points[-1]["step"] == 3 * MAX_HISTORY - 1 and points[0]["batch_cost"] is None  # NaN -> null
    steps = [p["step"] for p in points]
    assert steps == sorted(steps)


def test_an_averaging_run_answers_and_saves_its_average(client, mnist):
    """`average` reaches the trainer: the run (same seed, same steps) answers with other weights than
    the run without it, and what it saves is what it answers with."""
    digit = {"pixels": mnist.test.images[0].tolist()}
    answers = {}
    for average in (0.0, 0.9):
        run = client.post("/api/runs", json={**SMALL, "average": average}).json()
        assert run["config"]["average"] == average
        wait_for(client, run["id"], lambda r: r["status"] == "finished")
        answers[average] = client.post(f"/api/predict?run={run['id']}", json=digit).json()["activations"]
        if average:
            name = "averaged"
            assert client.post(f"/api/runs/{run['id']}/save", json={"name": name}).status_code == 201
            saved = client.post(f"/api/predict?model={name}", json=digit).json()["activations"]
            assert saved == pytest.approx(answers[average], abs=1e-6)
    assert answers[0.9] != pytest.approx(answers[0.0], abs=1e-3)
