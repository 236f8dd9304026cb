"""What a run may ask for: recipes that can never train, or whose mini-batch costs too much, are a 422
before anything is queued; a full queue is a 429 with Retry-After; every shipped and lesson recipe
still fits."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import replace

import pytest

import app.server.api.routes.runs as runs_route
from app.cli import train as cli_train
from app.lessons import experiments as exp
from app.training.config import MAX_BATCH_MEMORY, MAX_STEP_WORK, TrainConfig
from tests.conftest import REPO
from tests.support.wait import wait_until

SMALL = {"hidden": [16], "train_subset": 500, "epochs": 1, "validation_size": 0, "batch_size": 10}
LONG = {"hidden": [16, 16], "epochs": 50}

NEVER_TRAIN = [
    ({"train_subset": 1}, ["batch size 10", "1 training examples", "train_subset"]),
    ({"batch_size": 60_000}, ["batch size 60,000", "55,000 training examples", "validation_size"]),
    ({"batch_size": 600, "train_subset": 500}, ["train_subset"]),
]
TOO_COSTLY = {"hidden": [1024, 1024, 1024, 1024], "batch_size": 60_000, "validation_size": 0}


@pytest.mark.parametrize("fields,words", NEVER_TRAIN, ids=lambda v: str(v)[:30])
def test_configs_that_can_never_train_are_refused_by_validate(fields, words):
    with pytest.raises(ValueError) as refused:
        TrainConfig(**fields).validate()
    for word in words:
        assert word in str(refused.value), str(refused.value)


@pytest.mark.parametrize("fields,words", NEVER_TRAIN, ids=lambda v: str(v)[:30])
def test_configs_that_can_never_train_are_a_422_up_front(client, fields, words):
    r = client.post("/api/runs", json=fields)
    assert r.status_code == 422, r.text
    for word in words:
        assert word in r.json()["detail"], r.json()
    assert client.get("/api/runs").json() == [], "nothing was queued"


def test_the_5_gb_recipe_is_a_422_that_says_the_limits_and_what_to_lower(client):
    r = client.post("/api/runs", json=TOO_COSTLY)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert f"{MAX_STEP_WORK:,}" in detail and f"{MAX_BATCH_MEMORY // 2**20} MB" in detail, detail
    assert "lower batch_size" in detail and "at most 504" in detail, detail
    assert client.get("/api/runs").json() == []


def test_the_largest_batch_the_message_offers_is_accepted():
    fields = {**TOO_COSTLY, "batch_size": 504}
    TrainConfig(**fields).validate()
    with pytest.raises(ValueError, match="too much work"):
        TrainConfig(**{**fields, "batch_size": 505}).validate()


def makefile_recipes() -> list[TrainConfig]:
    """Return the configs of the Makefile's `models` target, read through the command line's parser."""
    lines = (REPO / "Makefile").read_text().split("\nmodels:")[1].split("\n\n")[0].splitlines()[1:]
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli_train.add_parser(sub)
    configs = []
    for line in lines:
        words = shlex.split(line.strip())
        assert words[:2] == ["digit-studio", "train"], line
        configs.append(cli_train.config_from_args(parser.parse_args(words[1:])))
    return configs


def test_every_shipped_and_lesson_recipe_fits():
    shipped = makefile_recipes()
    assert [c.hidden for c in shipped] == [[16, 16], [256, 256]]
    lessons = [*exp.random_label_configs(10_000, 400).values(), *exp.seed_configs(6).values(), exp.WIDE,
               exp.TIMELINE, exp.MANY_VALLEYS, exp.RANDOM_LABELS]
    page_default = TrainConfig()
    full_batch = TrainConfig(batch_size=60_000, validation_size=0)   # the video's net, gradient descent
    for config in [*shipped, *lessons, page_default, full_batch]:
        assert config.validate() is config
        assert replace(config).size_problems() == []


def test_a_full_queue_is_a_429_with_retry_after(client, monkeypatch):
    monkeypatch.setattr(runs_route, "MAX_QUEUED_RUNS", 2)
    slots = client.app.state.runs.max_concurrent
    running = [client.post("/api/runs", json=LONG).json()["id"] for _ in range(slots)]
    for run_id in running:
        wait_until(lambda run_id=run_id: client.get(f"/api/runs/{run_id}").json(),
                   lambda r: r["status"] == "running")
    queued = [client.post("/api/runs", json=SMALL) for _ in range(2)]
    assert [r.status_code for r in queued] == [201, 201]
    assert [r.json()["status"] for r in queued] == ["queued", "queued"]
    full = client.post("/api/runs", json=SMALL)
    assert full.status_code == 429, full.text
    assert int(full.headers["Retry-After"]) > 0
    assert "2 runs are already waiting" in full.json()["detail"], full.json()
    # A bad recipe still hears what is wrong with it, not that the queue is full.
    assert client.post("/api/runs", json={"train_subset": 1}).status_code == 422
    client.post(f"/api/runs/{queued[0].json()['id']}/stop")   # a place in the queue comes free
    again = client.post("/api/runs", json=SMALL)
    assert again.status_code == 201, again.text
    for run_id in [*running, queued[1].json()["id"], again.json()["id"]]:
        client.post(f"/api/runs/{run_id}/stop")
