"""Lessons 6 to 8 without a browser: create-or-reuse of lesson runs, the timeline recorder, the
hoped-for maps, and the timeline endpoints against a real (small, quick) training run."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.lessons.experiments import find_or_create, random_label_configs, seed_configs
from app.lessons.ideal import ideal_maps
from app.lessons.timeline import Recorder
from app.nn.network import Network
from app.server.main import create_app
from app.server.runs import RunManager
from app.server.settings import Settings
from app.training.config import TrainConfig


class FakeManager:
    def __init__(self):
        self.runs = []

    def list(self):
        return list(reversed(self.runs))

    def create(self, config, name=None):
        run = SimpleNamespace(id=f"r{len(self.runs) + 1}", config=config.validate(), status="running",
                              name=name)
        self.runs.append(run)
        return run


def test_identical_recipes_are_reused_and_ended_runs_are_not():
    manager = FakeManager()
    config = random_label_configs(1000, 5)["shuffled"]
    first, created = find_or_create(manager, config, "a")
    assert created
    again, created = find_or_create(manager, random_label_configs(1000, 5)["shuffled"], "b")
    assert again is first and not created
    other, created = find_or_create(manager, random_label_configs(1000, 6)["shuffled"], "c")
    assert created and other is not first
    first.status = "stopped"
    fresh, created = find_or_create(manager, config, "d")
    assert created and fresh is not first
    assert len({c.seed for c in seed_configs(4).values()}) == 4


def fake_progress(step: int, net: Network):
    return SimpleNamespace(step=step, epoch=step / 100, test_accuracy=0.5, snapshot=net)


def test_recorder_keeps_new_frames_and_thins_evenly():
    net = Network([784, 16, 10], seed=0)
    run = SimpleNamespace(id="r1", latest=None, ended=False)
    rec = Recorder(run, neurons=4, period=0.05, max_frames=8, initial=net, follow=True)
    for step in range(1, 20):
        run.latest = fake_progress(step, net)
        rec.sample()
        rec.sample()  # the same step twice is one frame
    frames = rec.frames()
    assert len(frames) <= 8
    assert frames[0].step == 0 and frames[-1].step == 19
    assert [f.step for f in frames] == sorted(f.step for f in frames)
    assert frames[0].maps.shape == (4, 784) and frames[0].maps.dtype == np.float16
    assert np.allclose(frames[0].maps, net.W[0][:4], atol=1e-3)
    run.ended = True
    assert rec.thread is not None
    rec.thread.join(timeout=5)
    assert not rec.thread.is_alive(), "the recorder stops when its run ends"


def test_ideal_maps_are_strokes_with_a_negative_surround():
    names, maps = ideal_maps()
    assert len(names) == len(maps) == 8 and maps.shape[1] == 784
    for m in maps:
        assert m.max() == 1.0 and m.min() == -0.5
        assert 10 < (m > 0).sum() < 200, "a small stroke, not a blob"


@pytest.fixture(scope="module")
def client(tmp_path_factory, mnist):
    settings = Settings(train_on_start=False, models_dir=tmp_path_factory.mktemp("models"),
                        state_dir=tmp_path_factory.mktemp("state"))
    manager = RunManager(max_concurrent=1, data_loader=lambda: mnist)
    with TestClient(create_app(settings, manager)) as c:
        yield c


def test_timeline_of_a_real_run(client):
    config = TrainConfig(epochs=1, train_subset=3000, validation_size=0, seed=5).to_dict()
    # A long run holds the one training slot, so this run is still untrained when first asked about:
    # its timeline starts with its initial weights, however fast or busy the machine.
    blocker = client.post("/api/runs", json=TrainConfig(epochs=50).to_dict()).json()
    run = client.post("/api/runs", json=config).json()
    first = client.get("/api/lessons/timeline", params={"run": run["id"]}).json()
    assert first["run"]["status"] == "queued" and len(first["frames"]) == 1, first["run"]
    client.post(f"/api/runs/{blocker['id']}/stop")
    deadline = time.monotonic() + 60
    while (client.get(f"/api/runs/{run['id']}").json()["status"] in ("queued", "running")
           and time.monotonic() < deadline):   # queued first if other runs hold the training slots
        time.sleep(0.2)
    body = client.get("/api/lessons/timeline", params={"run": run["id"]}).json()
    assert body["run"]["status"] == "finished"
    assert len(body["frames"]) >= 2 and len(body["frames"]) >= len(first["frames"])
    newest = len(body["frames"]) - 1
    last = client.get("/api/lessons/timeline/frame", params={"run": run["id"], "index": newest})
    assert last.json()["type"] == "weights" and len(last.json()["neurons"]) == 16
    missing = client.get("/api/lessons/timeline/frame", params={"run": run["id"], "index": 10_000})
    assert missing.status_code == 404 and "frames" in missing.json()["detail"]
    assert client.get("/api/lessons/timeline", params={"run": "r404"}).status_code == 404
    ideal = client.get("/api/lessons/hidden/ideal").json()
    assert ideal["type"] == "weights" and len(ideal["names"]) == len(ideal["neurons"]) == 8
    # lesson 1 on a run's live weights: its test accuracy is the one the trainer itself reported
    final = client.get(f"/api/runs/{run['id']}").json()["metrics"]
    live = client.get("/api/lessons/test-cost", params={"run": run["id"]}).json()
    assert live["accuracy"] == pytest.approx(final["test_accuracy"], abs=1e-4)
    assert live["model"]["kind"] == "run" and live["model"]["step"] == final["step"]
    weights = client.get("/api/lessons/weights", params={"run": run["id"], "neurons": 4}).json()
    assert weights["neurons"] == [0, 1, 2, 3] and weights["model"]["kind"] == "run"


def test_anonymous_timeline_readers_start_no_threads(client, monkeypatch):
    """Asking for the timelines of many active runs starts no thread, and keeps few recorders."""
    from app.server.api.routes.lesson_runs import MAX_RECORDERS

    monkeypatch.setattr("app.server.api.routes.runs.MAX_QUEUED_RUNS", 12)   # more runs than recorders

    config = TrainConfig(epochs=50, train_subset=2000, validation_size=0, seed=9).to_dict()
    ids = [client.post("/api/runs", json={**config, "seed": 100 + k}).json()["id"] for k in range(12)]
    try:
        for run_id in ids:
            assert client.get("/api/lessons/timeline", params={"run": run_id}).status_code == 200
        timeline_threads = [t.name for t in threading.enumerate() if t.name.startswith("timeline-")]
        assert timeline_threads == []
        assert len(client.app.state.lesson_recorders) == MAX_RECORDERS
        # the newest asked-for stay; the first ones asked for were dropped
        assert set(client.app.state.lesson_recorders) == set(ids[-MAX_RECORDERS:])
    finally:
        for run_id in ids:
            client.post(f"/api/runs/{run_id}/stop")
