"""The network picture, neuron maps and replay snapshots: shapes, bounds, and replay after a restart
(the in-process TestClient with a state folder, on the real MNIST)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from app.nn.network import Network
from app.server.main import create_app
from app.server.replay import MAX_BYTES, MAX_SNAPSHOTS, Replay
from app.server.runs import RunManager
from app.server.settings import Settings
from app.training.trainer import Progress
from tests.test_pace import DEAD_RELU, run_of, wait_for

PIXELS = {"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464}


def persistent_client(settings: Settings, mnist) -> TestClient:
    manager = RunManager(settings.max_concurrent_runs, data_loader=lambda: mnist,
                         state_dir=settings.state_dir)
    return TestClient(create_app(settings, manager=manager))


def test_network_picture_and_neuron_maps(client):
    rid = client.post("/api/runs", json={"hidden": [64, 16], "train_subset": 3000, "epochs": 2}).json()["id"]
    wait_for(lambda: run_of(client, rid), lambda r: r["status"] == "finished", "the run to finish")
    net = client.app.state.runs.get(rid).latest.snapshot
    picture = client.get(f"/api/runs/{rid}/network").json()
    assert picture["type"] == "network" and picture["sizes"] == [784, 64, 16, 10]
    shown = picture["shown"]
    assert [len(s) for s in shown] == [16, 16, 10] and shown[0] == sorted(shown[0])
    strength = np.linalg.norm(net.W[0], axis=1) + np.linalg.norm(net.W[1], axis=0)
    assert set(shown[0]) == set(np.argsort(strength)[-16:].tolist())   # the 16 strongest of 64
    assert [len(i["pixels"]) for i in picture["inputs"]] == [12] * 16
    first = picture["inputs"][0]
    assert abs(abs(first["weights"][0]) - np.abs(net.W[0][first["neuron"]]).max()) < 1e-4   # strongest first
    assert [np.array(w).shape for w in picture["weights"]] == [(16, 16), (10, 16)]
    assert [len(b) for b in picture["biases"]] == [16, 16, 10]
    one = client.get(f"/api/runs/{rid}/neuron", params={"layer": 1, "index": 5}).json()
    assert one["kind"] == "weights" and one["shape"] == [28, 28]
    assert np.allclose(one["map"], net.W[0][5], atol=1e-4)
    three = client.get(f"/api/runs/{rid}/neuron", params={"layer": 3, "index": 7}).json()
    assert three["kind"] == "combined" and len(three["map"]) == 784
    assert np.allclose(three["map"], net.W[2][7] @ net.W[1] @ net.W[0], atol=1e-3)
    assert client.get(f"/api/runs/{rid}/neuron", params={"layer": 4, "index": 0}).status_code == 422
    assert client.get(f"/api/runs/{rid}/neuron", params={"layer": 2, "index": 16}).status_code == 422


def test_snapshots_replay_and_survive_a_restart(settings, mnist):
    with persistent_client(settings, mnist) as client:
        rid = client.post("/api/runs", json={"train_subset": 5000, "epochs": 4}).json()["id"]
        dead = client.post("/api/runs", json={**DEAD_RELU, "watch": False}).json()["id"]
        wait_for(lambda: run_of(client, rid), lambda r: r["status"] == "finished", "the run to finish")
        stuck = wait_for(lambda: run_of(client, dead), lambda r: r["status"] == "finished", "the dead run")
        assert stuck["warning"]["code"] == "stuck"
        snapshots = client.get(f"/api/runs/{rid}/snapshots").json()["snapshots"]
        assert 10 <= len(snapshots) <= MAX_SNAPSHOTS
        seen = [s["examples_seen"] for s in snapshots]
        assert seen[0] == 10 and seen[-1] == 4 * 5000 and seen == sorted(seen)
        early, last = snapshots[0]["index"], snapshots[-1]["index"]
        answers = {i: client.post(f"/api/predict?run={rid}&snapshot={i}", json=PIXELS).json()
                   for i in (early, last)}
        assert answers[early]["activations"] != answers[last]["activations"]
        weights = client.get(f"/api/runs/{rid}/snapshots/{early}/weights", params={"neurons": "0,3"}).json()
        assert weights["neurons"] == [0, 3] and weights["step"] == snapshots[0]["step"]
        picture = client.get(f"/api/runs/{rid}/network", params={"snapshot": early}).json()
        assert picture["step"] == snapshots[0]["step"]
        assert client.get(f"/api/runs/{rid}/network", params={"snapshot": 9999}).status_code == 404
        assert client.post(f"/api/predict?run={rid}&snapshot=9999", json=PIXELS).status_code == 404
    assert (Path(settings.state_dir) / "checkpoints" / f"{rid}.replay.npz").exists()
    with persistent_client(settings, mnist) as client:   # a new server on the same state
        assert client.get(f"/api/runs/{rid}/snapshots").json()["snapshots"] == snapshots
        assert run_of(client, dead)["warning"] == stuck["warning"]   # it still says why it is stuck
        again = client.post(f"/api/predict?run={rid}&snapshot={early}", json=PIXELS).json()
        assert again["activations"] == answers[early]["activations"]
        client.delete(f"/api/runs/{rid}")
    assert not (Path(settings.state_dir) / "checkpoints" / f"{rid}.replay.npz").exists()


def report(net: Network, seen: int) -> Progress:
    return Progress(step=seen, epoch=0.0, examples_seen=seen, batch_cost=1.0, learning_rate=1.0,
                    examples_per_second=1.0, train_seconds=1.0, snapshot=net)


def test_replay_memory_is_bounded_and_keeps_the_first_and_newest():
    wide = Network([784, 1024, 1024, 10])             # 3.9 MB of weights a snapshot
    replay = Replay()
    for k in range(200):
        replay.offer(report(wide, 2 ** k))
    kept = replay.list()
    assert len(kept) * wide.params.nbytes <= MAX_BYTES and len(kept) >= 2
    assert kept[0]["examples_seen"] == 1 and kept[-1]["examples_seen"] == 2 ** 199
    small = Replay()
    for k in range(1, 5000):
        small.offer(report(Network([784, 16, 16, 10]), k * 10))
    assert len(small.list()) <= MAX_SNAPSHOTS and small.list()[0]["examples_seen"] == 10
