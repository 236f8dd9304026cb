"""The lessons' additions for the video's pictures, in process: the default network, the downhill
bounds, lesson 4's whole gradient column and one applied step, lesson 8's second layer in pixels,
and lesson 9's mistakes and confusion matrix (real MNIST, small saved networks)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.lessons.example import example_cost, flat_parameters, one_step, parameter_gradient
from app.lessons.ideal import pixel_maps
from app.lessons.mistakes import pick, read_all
from app.nn.network import Network
from app.server.main import create_app
from app.server.runs import RunManager
from app.server.settings import Settings
from app.training.config import TrainConfig
from app.training.modelfile import save_model
from tests.support.wait import wait_until

VIDEO = [784, 16, 16, 10]


@pytest.fixture(scope="module")
def client(tmp_path_factory, mnist):
    models = tmp_path_factory.mktemp("models")
    save_model(models / "default.npz", Network(VIDEO, seed=11), {"test_accuracy": None})
    save_model(models / "best.npz", Network([784, 32, 32, 10], "relu", "cross_entropy", seed=3), {})
    settings = Settings(train_on_start=False, models_dir=models, state_dir=tmp_path_factory.mktemp("state"))
    manager = RunManager(max_concurrent=1, data_loader=lambda: mnist)
    with TestClient(create_app(settings, manager)) as c:
        yield c


def test_lessons_default_to_the_video_network_and_best_is_one_choice_away(client):
    body = client.get("/api/lessons/example", params={"index": 0}).json()
    assert body["model"]["name"] == "default" and body["model"]["sizes"] == VIDEO
    best = client.get("/api/lessons/example", params={"index": 0, "model": "best"}).json()
    assert best["model"]["name"] == "best" and best["model"]["sizes"] == [784, 32, 32, 10]


def test_the_watched_run_of_the_video_shape_is_the_default_and_a_wide_one_is_not(client):
    manager = client.app.state.runs
    wide = manager.create(TrainConfig(hidden=[32], epochs=1, train_subset=500, validation_size=0))
    video = manager.create(TrainConfig(epochs=1, train_subset=500, validation_size=0, seed=4))
    try:
        for run in (wide, video):
            wait_until(lambda r=run: r.latest is not None, timeout=120, what="the run's first weights")
        manager.watch(wide.id)
        assert client.get("/api/lessons/test-cost").json()["model"]["name"] == "default"
        manager.watch(video.id)
        answer = client.get("/api/lessons/test-cost").json()["model"]
        assert answer["kind"] == "run" and answer["name"] == video.id
    finally:
        manager.watch(None)


def test_downhill_bounds_are_the_ones_the_endpoints_enforce(client):
    bounds = client.get("/api/lessons/downhill/bounds").json()
    top = bounds["learning_rate"]["max"]
    ok = client.get("/api/lessons/downhill/2d", params={"x": 1, "y": 1, "learning_rate": top, "steps": 5})
    assert ok.status_code == 200
    over = client.get("/api/lessons/downhill/2d", params={"x": 1, "y": 1, "learning_rate": top * 1.01})
    assert over.status_code == 422


def test_gradient_column_holds_all_13002_and_matches_backprop(client, mnist):
    body = client.get("/api/lessons/gradient", params={"index": 5, "fresh": 3}).json()
    col = body["column"]
    assert col["total"] == 13_002 and len(col["gradient"]) == 13_002 and col["order"] == "network"
    net = Network(VIDEO, seed=3)
    x, label = mnist.train.images[5], int(mnist.train.labels[5])
    expected = flat_parameters(parameter_gradient(net, x, label))
    assert np.allclose(col["gradient"], expected, rtol=1e-3, atol=1e-12)
    assert np.allclose(col["value"], flat_parameters(net), rtol=1e-3, atol=1e-12)
    # a wider network sends its largest entries, largest first, with their places
    wide = client.get("/api/lessons/gradient", params={"index": 5, "model": "best"}).json()["column"]
    assert wide["order"] == "largest" and wide["total"] > 13_002 and len(wide["index"]) == 13_002
    sizes = np.abs(wide["gradient"])
    assert np.all(sizes[:-1] >= sizes[1:])


def test_one_step_down_the_gradient_lowers_that_examples_cost(client, mnist):
    net = Network(VIDEO, seed=3)
    x, label = mnist.train.images[5], int(mnist.train.labels[5])
    step = one_step(net, parameter_gradient(net, x, label), x, label, 0.5)
    assert step.after.cost < step.before.cost
    assert step.before.cost == pytest.approx(example_cost(net, x, label).cost)
    body = client.get("/api/lessons/gradient", params={"index": 5, "fresh": 3, "learning_rate": 0.5}).json()
    assert body["step"]["after"]["cost"] == pytest.approx(step.after.cost, rel=1e-4)
    refused = client.get("/api/lessons/gradient", params={"index": 5, "learning_rate": 11})
    assert refused.status_code == 422


def test_second_layer_maps_are_its_weights_composed_with_the_first(client):
    net = Network(VIDEO, seed=5)
    maps = pixel_maps(net.W, 2)
    assert maps.shape == (16, 784)
    assert np.allclose(maps[3], sum(net.W[1][3, j] * net.W[0][j] for j in range(16)), atol=1e-5)
    body = client.get("/api/lessons/weights", params={"layer": 2, "fresh": 5}).json()
    assert body["layer"] == 2 and body["scale"] == pytest.approx(np.abs(maps).max(), rel=1e-5)
    one_layer = client.get("/api/lessons/weights", params={"layer": 3, "fresh": 5})
    assert one_layer.status_code == 422 and "hidden layers" in one_layer.json()["detail"]


def test_mistakes_come_most_confident_first_with_the_confusion_matrix(client, mnist):
    body = client.get("/api/lessons/mistakes", params={"fresh": 7, "limit": 30}).json()
    net = Network(VIDEO, seed=7)
    out = net.predict(mnist.test.images)
    answers = out.argmax(axis=1)
    wrong = answers != mnist.test.labels
    assert body["errors"] == int(wrong.sum()) and body["n"] == 10_000
    confusion = np.array(body["confusion"])
    assert confusion.sum() == 10_000 and np.trace(confusion) == 10_000 - body["errors"]
    assert confusion[mnist.test.labels[0], answers[0]] >= 1
    shown = body["images"]
    assert len(shown) == 30 and all(m["answer"] != m["label"] for m in shown)
    confidences = [m["confidence"] for m in shown]
    assert confidences == sorted(confidences, reverse=True)
    assert confidences[0] == pytest.approx(out[wrong].max(axis=1).max(), abs=1e-4)


def test_a_cell_of_the_matrix_gives_those_digits(client, mnist):
    reading = read_all(Network(VIDEO, seed=7), mnist.test.images, mnist.test.labels)
    r, a = np.unravel_index(np.argmax(reading.confusion - np.diag(np.diag(reading.confusion))), (10, 10))
    body = client.get("/api/lessons/mistakes", params={"fresh": 7, "right": int(r), "answer": int(a)}).json()
    assert body["cell"] == [r, a] and body["matching"] == reading.confusion[r, a]
    assert all(m["label"] == r and m["answer"] == a for m in body["images"])
    diagonal, count = pick(reading, mnist.test.labels, 1, 1, 5)
    assert count == reading.confusion[1, 1]
    assert list(reading.confidence[diagonal]) == sorted(reading.confidence[diagonal])   # least sure first
    half = client.get("/api/lessons/mistakes", params={"right": 3})
    assert half.status_code == 422 and "both" in half.json()["detail"]


def test_lesson_runs_never_become_the_studios_watched_run(client):
    before = client.get("/api/studio").json()["watched"]
    wide = client.post("/api/lessons/runs/wide").json()["runs"]["wide"]
    try:
        assert client.get("/api/studio").json()["watched"] == before != wide["id"]
    finally:
        client.post(f"/api/runs/{wide['id']}/stop")
