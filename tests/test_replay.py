"""The network picture, neuron maps and replay snapshots: shapes, bounds, and replay after a restart
(the in-process TestClient with a state folder, on the real MNIST)."""

from __future__ import annotations

import base64
import gc
import json
import types
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.nn.network import Network
from app.server import replayfile
from app.server.main import create_app
from app.server.replay import MAX_BYTES, MAX_SNAPSHOTS, Replay
from app.server.runs import RunManager
from app.server.settings import Settings
from app.server.storage import StorageError
from app.training.config import TrainConfig
from app.training.trainer import Progress
from tests.support.wait import wait_until
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


def array_bytes(root: object) -> int:
    """Return the bytes of the NumPy arrays reachable from `root` (each buffer once), walking the
    objects it refers to but not into classes, modules or functions (those reach everything)."""
    seen, buffers, todo = {id(root)}, {}, [root]
    while todo:
        obj = todo.pop()
        if isinstance(obj, np.ndarray):
            base = obj
            while isinstance(base.base, np.ndarray):
                base = base.base
            buffers[id(base)] = base.nbytes
            continue
        for ref in gc.get_referents(obj):
            if id(ref) not in seen and not isinstance(ref, type | types.ModuleType | types.FunctionType):
                seen.add(id(ref))
                todo.append(ref)
    return sum(buffers.values())


def saved_rows(path: Path) -> dict[int, np.ndarray]:
    """Return each snapshot's weights as the replay file holds them, by index (read here, whole)."""
    with np.load(path, allow_pickle=False) as f:
        header = json.loads(str(f["header"]))
        return dict(zip(header["indices"], f["params"], strict=True))


def test_a_replay_lets_its_weights_go_once_saved_and_reads_them_back(tmp_path, monkeypatch):
    nets = [Network([784, 16, 10], seed=k) for k in range(6)]
    replay = Replay()
    for k, net in enumerate(nets):
        replay.offer(report(net, 10 * 2 ** k))
    path = tmp_path / "r1.replay.npz"
    assert not replay.release() and array_bytes(replay) >= 6 * nets[0].params.nbytes   # never saved
    replay.save(path)
    monkeypatch.setattr(replayfile, "CACHE", replayfile.Cache(2 * nets[0].params.nbytes))
    assert replay.release() and array_bytes(replay) == 0
    for _ in range(2):   # twice: the cache holds two snapshots, so most are read from disk again
        for k, net in enumerate(nets):
            assert np.array_equal(replay.get(k).net.params, net.params)
            assert replayfile.CACHE.nbytes() <= 2 * net.params.nbytes
    # Training on (a resumed run) reads them back into memory; the next save holds them all.
    replay.drop_after(0.0)
    replay.offer(report(Network([784, 16, 10], seed=99), 10_000))
    assert array_bytes(replay) >= 7 * nets[0].params.nbytes and replay.dirty
    replay.save(path)
    assert replay.release() and sorted(saved_rows(path)) == list(range(7))
    assert np.array_equal(replay.get(3).net.params, nets[3].params)
    # A file gone (or damaged) under an ended run: that snapshot is a 503 saying why, not a crash.
    path.unlink()
    with pytest.raises(StorageError) as refused:
        replay.get(5)
    assert refused.value.status == 503 and "could not be read back" in str(refused.value)


def test_a_deleted_runs_snapshots_leave_the_cache_and_an_emptied_replay_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(replayfile, "CACHE", replayfile.Cache())
    nets = [Network([784, 16, 10], seed=k) for k in range(3)]
    kept, other = Replay(), Replay()
    for replay, path in ((kept, tmp_path / "r1.replay.npz"), (other, tmp_path / "r2.replay.npz")):
        for k, net in enumerate(nets):
            replay.offer(report(net, 10 * 2 ** k))
        replay.save(path)
        assert replay.release()
        replay.get(1)
    assert replayfile.CACHE.nbytes() == 2 * nets[1].params.nbytes
    other.forget()                                   # its run deleted: only the other's stays cached
    assert replayfile.CACHE.nbytes() == nets[1].params.nbytes
    assert np.array_equal(kept.get(1).net.params, nets[1].params)
    # Every snapshot dropped (as for a run resumed before its first epoch's end, whose snapshots all
    # lie past its start): the next save leaves no stale file that a restart would read back as this run's.
    kept.drop_after(-1.0)
    assert kept.list() == []
    kept.save(tmp_path / "r1.replay.npz")
    assert not (tmp_path / "r1.replay.npz").exists() and not kept.dirty


def test_ended_runs_keep_their_snapshot_lists_and_read_weights_from_disk(settings, mnist):
    config = {"hidden": [16], "train_subset": 1000, "validation_size": 100, "epochs": 2}
    # Without a state folder there is no file to read back: the ended run keeps its weights (and
    # this shows the measure sees a replay's arrays when they are there).
    manager = RunManager(1, data_loader=lambda: mnist, executor="thread")
    try:
        run = manager.create(TrainConfig(**config))
        wait_until(lambda: run.status, lambda s: s == "finished", what="a run without a state folder")
        assert array_bytes(run.replay) >= len(run.replay.list()) * run.latest.snapshot.params.nbytes > 0
    finally:
        manager.shutdown()
    with persistent_client(settings, mnist) as client:
        ids = [client.post("/api/runs", json={**config, "watch": False}).json()["id"] for _ in range(6)]
        for rid in ids:
            wait_for(lambda r=rid: run_of(client, r), lambda r: r["status"] == "finished", f"{rid} to finish")
        manager = client.app.state.runs
        assert sum(array_bytes(manager.get(rid).replay) for rid in ids) == 0
        for rid in ids:
            rows = saved_rows(Path(settings.state_dir) / "checkpoints" / f"{rid}.replay.npz")
            listed = client.get(f"/api/runs/{rid}/snapshots").json()["snapshots"]
            assert [s["index"] for s in listed] == sorted(rows) and len(rows) >= 5
            for s in listed:   # every snapshot, as the timeline asks for them, is the saved one
                i, row = s["index"], rows[s["index"]]
                assert np.array_equal(manager.get(rid).replay.get(i).net.params, row)
                neuron = i % 16
                one = client.get(f"/api/runs/{rid}/neuron",
                                 params={"layer": 1, "index": neuron, "snapshot": i}).json()
                saved = Network([784, 16, 10], params=row)
                assert np.allclose(one["map"], saved.W[0][neuron], atol=1e-4)
                weights = client.get(f"/api/runs/{rid}/snapshots/{i}/weights").json()
                q = np.frombuffer(base64.b64decode(weights["data"]), np.int8).reshape(-1, 784)
                assert weights["step"] == s["step"]
                assert np.allclose(q / 127 * weights["scale"], saved.W[0][weights["neurons"]],
                                   atol=weights["scale"] / 127)
            assert client.post(f"/api/predict?run={rid}&snapshot={listed[0]['index']}",
                               json=PIXELS).status_code == 200
        assert sum(array_bytes(manager.get(rid).replay) for rid in ids) == 0
        assert replayfile.CACHE.nbytes() <= replayfile.CACHE_BYTES


def test_a_damaged_replay_file_is_reported_and_the_server_starts(settings, mnist):
    with persistent_client(settings, mnist) as client:
        rid = client.post("/api/runs", json={"hidden": [16], "train_subset": 500, "epochs": 1}).json()["id"]
        wait_for(lambda: run_of(client, rid), lambda r: r["status"] == "finished", "the run to finish")
    path = Path(settings.state_dir) / "checkpoints" / f"{rid}.replay.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])   # cut short, as by a full disk
    with persistent_client(settings, mnist) as client:
        assert run_of(client, rid)["status"] == "finished"
        assert client.get(f"/api/runs/{rid}/snapshots").json()["snapshots"] == []
        assert any(f"run {rid}: replay unreadable" in p for p in client.app.state.runs.problems)
