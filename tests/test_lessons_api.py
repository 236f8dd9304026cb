"""The lesson endpoints, in process: pages, example cost, test-set cost, descent, gradient maps,
noise, and create-or-reuse of the lesson runs (with a run manager that never really trains)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.nn.functions import QuadraticCost
from app.nn.network import Network, one_hot
from app.server.main import create_app
from app.server.runs import RunManager
from app.server.settings import Settings
from app.training.modelfile import save_model


@pytest.fixture(scope="module")
def client(tmp_path_factory, mnist):
    models = tmp_path_factory.mktemp("models")
    save_model(models / "default.npz", Network([784, 16, 16, 10], seed=11), {"test_accuracy": None})
    settings = Settings(train_on_start=False, models_dir=models, state_dir=tmp_path_factory.mktemp("state"))
    # max_concurrent=0: lesson runs queue but never train, so these tests cost no CPU.
    manager = RunManager(max_concurrent=0, data_loader=lambda: mnist)
    with TestClient(create_app(settings, manager)) as c:
        yield c


def test_index_and_every_lesson_page_render(client):
    index = client.get("/lessons")
    assert index.status_code == 200
    for slug in ("cost-of-one-example", "downhill-1d", "downhill-2d", "which-nudges-matter", "random-noise",
                 "random-labels", "many-valleys", "hidden-neurons", "mistakes"):
        assert f'href="/lessons/{slug}"' in index.text
        page = client.get(f"/lessons/{slug}")
        assert page.status_code == 200, slug
        assert 'type="module"' in page.text
    assert client.get("/lessons/..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/lessons/nope").json()["detail"].startswith("no lesson")


def test_example_cost_is_the_quadratic_cost_of_that_test_image(client, mnist):
    body = client.get("/api/lessons/example", params={"index": 7, "model": "default"}).json()
    net = Network([784, 16, 16, 10], seed=11)
    x, label = mnist.test.images[7:8], int(mnist.test.labels[7])
    expected = float(QuadraticCost.fn(net.predict(x), one_hot(np.array([label])))[0])
    assert body["label"] == label
    assert body["cost"] == pytest.approx(expected, rel=1e-4)
    assert sum(body["squared"]) == pytest.approx(body["cost"], rel=1e-4)
    assert body["desired"][label] == 1 and sum(body["desired"]) == 1
    assert np.array(body["input"]).shape == (28, 28)
    assert body["model"]["name"] == "default"


def test_fresh_network_and_drawn_example(client):
    fresh = client.get("/api/lessons/example", params={"index": 0, "fresh": 4}).json()
    assert fresh["model"]["kind"] == "fresh"
    pixels = np.zeros((28, 28))
    pixels[4:24, 13:15] = 1.0
    drawn = client.post("/api/lessons/example?label=1&fresh=4", json={"pixels": pixels.tolist()})
    assert drawn.status_code == 200
    assert drawn.json()["label"] == 1 and drawn.json()["split"] == "drawing"


def test_bad_inputs_get_readable_errors(client):
    assert client.get("/api/lessons/example", params={"index": 10_000}).status_code == 422
    both = client.get("/api/lessons/example", params={"model": "default", "fresh": 1})
    assert both.status_code == 422 and "at most one" in both.json()["detail"]
    assert client.get("/api/lessons/example", params={"model": "nope"}).status_code == 404
    assert client.get("/api/lessons/example", params={"run": "r999"}).status_code == 404
    empty = client.post("/api/lessons/example?label=3", json={"pixels": [0.0] * 784})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    assert client.get("/api/lessons/noise", params={"kind": "pink"}).status_code == 422
    assert client.get("/api/lessons/downhill/1d", params={"learning_rate": 0}).status_code == 422


def test_test_set_cost_covers_all_10000(client, mnist):
    body = client.get("/api/lessons/test-cost", params={"fresh": 0}).json()
    net = Network([784, 16, 16, 10], seed=0)
    cost, acc = net.evaluate(mnist.test.images, mnist.test.labels)
    assert body["n"] == 10_000
    assert body["cost"] == pytest.approx(cost, rel=1e-4)
    assert body["accuracy"] == pytest.approx(acc, abs=1e-4)
    assert body["cost"] > 1.0, "an untrained network is utter trash"


def test_downhill_endpoints(client):
    one = client.get("/api/lessons/downhill/1d", params={"x0": -4, "learning_rate": 0.1}).json()
    assert len(one["minima"]) == 3 and one["path"]["outcome"] == "settled"
    assert len(one["curve"]["x"]) == len(one["curve"]["f"]) == 241
    wild = client.get("/api/lessons/downhill/1d", params={"x0": 3, "learning_rate": 2}).json()
    assert wild["path"]["outcome"] == "diverged"
    surface = client.get("/api/lessons/downhill/2d/surface", params={"n": 20}).json()
    assert np.array(surface["z"]).shape == (20, 20)
    two = client.get("/api/lessons/downhill/2d", params={"x": 1, "y": 1, "learning_rate": 0.5}).json()
    assert len(two["gradient"]) == 2 and two["path"]["values"][-1] < two["path"]["values"][0]
    assert two["importance"]["more"] in ("x", "y")


def test_gradient_maps_for_a_training_example(client, mnist):
    body = client.get("/api/lessons/gradient", params={"index": 3, "model": "default", "top": 5}).json()
    assert body["label"] == int(mnist.train.labels[3])
    for key in ("weights", "gradient"):
        assert body[key]["type"] == "weights" and body[key]["neurons"] == list(range(16))
    codes = np.frombuffer(__import__("base64").b64decode(body["gradient"]["data"]), np.int8).reshape(16, 784)
    blank = mnist.train.images[3] == 0
    assert not codes[:, blank].any(), "no gradient on weights from blank pixels"
    grads = [abs(n["gradient"]) for n in body["nudges"]]
    assert len(grads) == 5 and grads == sorted(grads, reverse=True)


def test_noise_answers(client):
    body = client.get("/api/lessons/noise", params={"kind": "uniform", "seed": 2, "fresh": 1}).json()
    assert len(body["activations"]) == 10 and body["n_noise"] == 200
    assert sum(body["noise"]["winners"]) == 200 and sum(body["digits"]["winners"]) == 10_000
    blank = client.get("/api/lessons/noise", params={"kind": "blank", "fresh": 1}).json()
    assert not np.array(blank["input"]).any()


def test_lesson_runs_are_created_once_and_reused(client):
    looked = client.get("/api/lessons/runs/random-labels", params={"train_subset": 500, "epochs": 2}).json()
    assert looked == {"runs": {"real": None, "shuffled": None}, "created": []}, "GET never starts runs"
    first = client.post("/api/lessons/runs/random-labels", params={"train_subset": 500, "epochs": 2}).json()
    assert sorted(first["created"]) == ["real", "shuffled"]
    assert first["runs"]["shuffled"]["config"]["label_mode"] == "shuffled"
    again = client.post("/api/lessons/runs/random-labels", params={"train_subset": 500, "epochs": 2}).json()
    assert again["created"] == []
    assert {k: r["id"] for k, r in again["runs"].items()} == {k: r["id"] for k, r in first["runs"].items()}
    n_runs = len(client.get("/api/runs").json())
    for _ in range(5):
        client.post("/api/lessons/runs/many-valleys", params={"seeds": 3})
    assert len(client.get("/api/runs").json()) == n_runs + 3
    found = client.get("/api/lessons/runs/many-valleys", params={"seeds": 3}).json()
    assert all(run is not None for run in found["runs"].values())
    runs = client.get("/api/runs").json()
    for run in runs:  # leave nothing queued behind
        client.post(f"/api/runs/{run['id']}/stop")
