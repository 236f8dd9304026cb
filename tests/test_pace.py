"""Pace, Step, the probe measured often, stuck-run warnings and the run config's one source, through
the API in process (TestClient) on the real MNIST."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from app.server.schemas import RunConfigIn
from app.training.config import FIELDS, TrainConfig
from tests.support.wait import wait_until

DEADLINE = 120.0   # bounds a broken test only; a passing one goes on as soon as the event happens


def wait_for(fetch: Callable[[], Any], ok: Callable[[Any], bool], what: str) -> Any:
    """Return fetch() once ok() holds for it (tests/test_replay.py waits with it too)."""
    return wait_until(fetch, ok, DEADLINE, what=what)


# ReLU with cross-entropy at the sigmoid's learning rate: its hidden units die within a few hundred steps.
DEAD_RELU = {"activation": "relu", "cost": "cross_entropy", "learning_rate": 3.0, "train_subset": 2000,
             "validation_size": 0, "epochs": 12}


def run_of(client, run_id: str) -> dict:
    return client.get(f"/api/runs/{run_id}").json()


def test_run_config_bounds_are_the_servers(client):
    fields = client.get("/api/run-config").json()["fields"]
    assert set(fields) == set(FIELDS)
    for name, field in fields.items():
        if field["type"] in ("int", "float"):
            beyond = field["max"] + (1 if field["type"] == "int" else 0.5)
            refused = client.post("/api/runs", json={name: beyond})
            assert refused.status_code == 422, (name, refused.text)
            below = field["min"] - 1
            assert client.post("/api/runs", json={name: below}).status_code == 422, name
            for edge, open_ in ((field["min"], "min"), (field["max"], "max")):
                if field.get("exclusive", {}).get(open_):
                    continue
                edge = int(edge) if field["type"] == "int" else edge
                # the largest batch needs no validation split; a subset of 1 a batch of 1 (else: 422)
                companion = {"batch_size": {"validation_size": 0}, "train_subset": {"batch_size": 1}}
                body = {**companion.get(name, {}), name: edge}
                config = RunConfigIn(**body).model_dump(exclude={"name", "watch"})
                TrainConfig(**config).validate()   # the edge the page may offer, the server takes
        if field["type"] == "choice":
            for choice in field["choices"]:
                TrainConfig(**RunConfigIn(**{name: choice}).model_dump(exclude={"name", "watch"})).validate()
            assert client.post("/api/runs", json={name: "nonsense"}).status_code == 422
    suggested = client.get("/api/run-config").json()["suggested"]
    assert suggested["relu/cross_entropy"]["learning_rate"] < suggested["sigmoid/quadratic"]["learning_rate"]
    assert client.get("/api/runs").json() == []   # nothing refused was started


def test_pace_step_and_full_speed(client):
    # One mini-batch a second: slow enough to pause between two steps.
    run = client.post("/api/runs", json={"epochs": 100, "pace": 10}).json()
    rid = run["id"]
    assert run["pace"] == 10 and run["config"]["pace"] == 10
    wait_for(lambda: run_of(client, rid), lambda r: r["progress"]["examples_seen"] >= 10, "a first step")
    slow = client.post(f"/api/runs/{rid}/pace", json={"pace": 5})
    assert slow.status_code == 422 and "one mini-batch of 10 a second" in slow.json()["detail"]
    assert client.post(f"/api/runs/{rid}/pace", json={"pace": "warp"}).status_code == 422
    assert client.post(f"/api/runs/{rid}/step", json={"steps": 1}).status_code == 409   # running
    assert "pause the run first" in client.post(f"/api/runs/{rid}/step").json()["detail"]
    assert client.post(f"/api/runs/{rid}/pace", json={"pace": 20}).json()["pace"] == 20
    assert client.post(f"/api/runs/{rid}/pause").json()["status"] == "paused"
    # The pause answers at once; the report of where the trainer stopped may still be on its way from
    # the worker (docs/api.md promises no more), so what was shown may yet move on. The first step
    # starts from the trainer's own count, never behind it; each step's answer comes after its report.
    shown = run_of(client, rid)["progress"]["examples_seen"]
    before = None
    for steps in (1, 3):
        answer = client.post(f"/api/runs/{rid}/step", json={"steps": steps})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        before = body["examples_seen_before"] if before is None else before
        assert body["steps"] == steps and body["examples_seen_before"] == before >= shown
        assert body["examples_seen"] == before + steps * 10
        assert body["run"]["status"] == "paused"
        assert body["batch_cost_after"] < body["batch_cost_before"]   # a step downhill on its own batch
        assert body["delta"]["type"] == "weights" and body["delta"]["scale"] > 0
        before = body["examples_seen"]
    assert run_of(client, rid)["progress"]["examples_seen"] == before     # and it stays paused
    assert client.post(f"/api/runs/{rid}/step", json={"steps": 0}).status_code == 422
    assert client.post(f"/api/runs/{rid}/pace", json={"pace": "full"}).json()["pace"] == "full"
    client.post(f"/api/runs/{rid}/resume")
    # At 20 examples/s this would take over 4 minutes; at full speed, a moment.
    wait_for(lambda: run_of(client, rid), lambda r: r["progress"]["examples_seen"] >= 5_000, "full speed")
    client.post(f"/api/runs/{rid}/stop")
    wait_for(lambda: run_of(client, rid), lambda r: r["status"] == "stopped", "the stop")
    assert client.post(f"/api/runs/{rid}/pace", json={"pace": 10}).status_code == 409


def test_probe_points_before_90_percent_at_full_pace(client):
    rid = client.post("/api/runs", json={"epochs": 3}).json()["id"]
    wait_for(lambda: run_of(client, rid), lambda r: r["status"] == "finished", "the run to finish")
    points = client.get(f"/api/runs/{rid}/history").json()["points"]
    assert all(p["probe_size"] == 1000 and p["probe_accuracy"] is not None for p in points)
    seen = [p["examples_seen"] for p in points]
    assert seen == sorted(seen) and seen[0] == 10     # from the first mini-batch on
    first_90 = next(i for i, p in enumerate(points) if p["probe_accuracy"] >= 0.9)
    assert first_90 >= 30, f"only {first_90} points before 90%"
    assert points[0]["probe_accuracy"] < 0.5


def test_a_dead_relu_run_is_flagged_and_ends_saying_so(client):
    rid = client.post("/api/runs", json=DEAD_RELU).json()["id"]
    run = wait_for(lambda: run_of(client, rid), lambda r: r["status"] not in ("queued", "running"), "the end")
    warning = run["warning"]
    assert warning is not None and warning["code"] == "stuck", run
    assert "never activate" in warning["message"] and "try 0.1" in warning["suggestion"]
    assert run["metrics"]["probe_accuracy"] < 0.2


def test_a_healthy_run_has_no_warning(client):
    rid = client.post("/api/runs", json={"train_subset": 5000, "epochs": 5}).json()["id"]
    run = wait_for(lambda: run_of(client, rid), lambda r: r["status"] == "finished", "the run to finish")
    assert run["warning"] is None and run["metrics"]["probe_accuracy"] > 0.5


def test_the_command_line_takes_every_config_field_with_the_same_defaults():
    import argparse

    from app.cli.train import add_parser, config_from_args

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    add_parser(commands)
    defaults = parser.parse_args(["train"])
    assert config_from_args(defaults) == TrainConfig()
    paced = parser.parse_args(["train", "--pace", "classroom", "--lr", "0.5", "--labels", "shuffled"])
    config = config_from_args(paced)
    assert (config.pace, config.learning_rate, config.label_mode) == ("classroom", 0.5, "shuffled")
    help_text = commands.choices["train"].format_help()
    for name, spec in FIELDS.items():
        assert (spec.flag or "--" + name.replace("_", "-")) in help_text, name


def test_history_thinning_keeps_the_log_spaced_points():
    from app.nn.network import Network
    from app.server.run import MAX_HISTORY, Run
    from app.training.trainer import Progress

    run, net, milestones = Run("r1", "r1", TrainConfig()), Network([784, 1, 10]), set()
    for step in range(1, 3 * MAX_HISTORY):
        milestone = step == 1 or int(step ** 0.5) ** 2 == step     # sparse, denser early
        milestones |= {step} if milestone else set()
        run.publish(Progress(step=step, epoch=step / 1000, examples_seen=10 * step, batch_cost=1.0,
                             learning_rate=1.0, examples_per_second=1.0, train_seconds=1.0, snapshot=net,
                             milestone=milestone))
    points = run.history()
    assert len(points) <= MAX_HISTORY
    assert milestones <= {p["step"] for p in points}   # the early climb is never thinned away


def test_lesson_runs_never_take_over_the_studio(client):
    mine = client.post("/api/runs", json={"train_subset": 500, "epochs": 1}).json()["id"]
    lesson = client.post("/api/lessons/runs/random-labels", params={"train_subset": 200, "epochs": 1})
    assert lesson.status_code == 200 and lesson.json()["created"], lesson.text
    assert client.get("/api/studio").json()["watched"] == mine
    quiet = client.post("/api/runs", json={"train_subset": 500, "epochs": 1, "watch": False}).json()["id"]
    assert quiet != mine and client.get("/api/studio").json()["watched"] == mine


class FakeClock:
    """The time module as the trainer sees it, on a clock that moves only while the trainer sleeps:
    the pace is checked to the mini-batch, on any machine, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now

    def __getattr__(self, name: str):
        return getattr(time, name)


class FakeWake:
    """The trainer's wake-up event: waiting moves the fake clock on instead of sleeping."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None, "a running paced trainer always sleeps until its next step"
        self.clock.now += timeout
        return False

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass


def paced_reports(mnist, monkeypatch, pace, examples: int) -> list[tuple[float, int]]:
    """Return (fake seconds since the start, examples_seen) of every report of a paced run."""
    import app.training.trainer as trainer_module
    from app.training.trainer import Trainer

    clock = FakeClock()
    monkeypatch.setattr(trainer_module, "time", clock)
    seen: list[tuple[float, int]] = []
    trainer = Trainer(TrainConfig(pace=pace, train_subset=examples, validation_size=0, epochs=1), mnist,
                      lambda p: seen.append((clock.now - 1000.0, p.examples_seen)), report_seconds=0.5,
                      eval_seconds=1e9)
    trainer._wake = FakeWake(clock)   # type: ignore[assignment]
    trainer.run()
    return seen


def test_a_fixed_pace_is_kept_to_the_mini_batch(mnist, monkeypatch):
    seen = paced_reports(mnist, monkeypatch, 100, 3000)    # ten mini-batches of 10 a second
    assert seen[-1][1] == 3000 and 29.8 <= seen[-1][0] <= 30.0
    for t, examples in seen:
        assert abs(examples - 100 * t) <= 10, (t, examples)   # never more than one batch off


def test_the_classroom_ramp_gives_each_tenfold_the_same_time(mnist, monkeypatch):
    from app.training.trainer import CLASSROOM_GROWTH, CLASSROOM_START

    seen = paced_reports(mnist, monkeypatch, "classroom", 50_000)
    def when(n: int) -> float:
        return next(t for t, examples in seen if examples >= n)
    # examples seen = (start / growth) (e^(growth t) - 1)
    for n in (100, 1_000, 10_000, 40_000):
        expected = math.log(1 + n * CLASSROOM_GROWTH / CLASSROOM_START) / CLASSROOM_GROWTH
        # reports come every 0.5 s and each 8% of examples (0.48 s here): the first past n is that late
        assert abs(when(n) - expected) < 1.0, (n, when(n), expected)
    tenfolds = [when(4_000) - when(400), when(40_000) - when(4_000), when(1_000) - when(100)]
    assert max(tenfolds) < 1.4 * min(tenfolds), tenfolds   # about the same screen time each
    assert when(1_750) > 5   # the class sees the first climb (the probe passes 50% near 1,750)
