"""A run's Ray actor (app/server/executors/ray_actor.py) as a plain object, without Ray: its reports wait
until a server acknowledges them, a poll whose answer was lost (its server died) is answered again,
and when the queue is full the training waits instead of dropping reports or growing without bound.
Controls overtaken by later ones (Ray runs a threaded actor's calls in no set order) are ignored, and a
step waits for the pause sent before it. A cluster that is not there is said at once, not after Ray's
minutes of retrying."""

from __future__ import annotations

import threading

import pytest

from app.server.executors.ray import RayExecutor
from app.server.executors.ray_actor import MAX_QUEUED, POLL_BATCH, RunActor
from app.training.config import TrainConfig
from tests.support.wait import wait_until

# Full speed, many epochs: it would make far more than MAX_QUEUED reports if nothing held it back.
CONFIG = TrainConfig(hidden=[16], train_subset=1000, validation_size=100, epochs=200, pace="full")
LEASE = 3600.0   # longer than any test: an actor whose lease lapses ends its process (here: pytest)
RUNNING = {"pause": False, "stop": False, "pace": "full"}


@pytest.fixture
def actor(mnist):
    actor = RunActor(mnist, CONFIG.to_dict(), None, 0, 0.0, "full", False, LEASE)
    yield actor
    actor.control({**RUNNING, "stop": True}, actor.version + 1)
    ack = -1
    while True:   # read until its end report: the training thread is done
        batch = actor.poll(ack, ack, 1.0)
        if batch:
            ack = batch[-1][0]
            if batch[-1][1][0] == "end":
                break


def test_reports_wait_for_the_server_and_a_lost_answer_is_given_again(actor):
    full = wait_until(lambda: len(actor._reports), lambda n: n == MAX_QUEUED, what="a full queue")
    assert full == MAX_QUEUED
    first = actor.poll(-1, -1, 0.0)
    assert [n for n, _ in first] == list(range(POLL_BATCH))       # nothing dropped: numbers 0, 1, 2, ...
    again = actor.poll(-1, -1, 0.0)                               # a new server, the first answer lost
    assert [n for n, _ in again] == [n for n, _ in first]
    steps = [message[1]["step"] for _, message in first]
    assert steps == sorted(steps) and all(m[0] == "progress" for _, m in first)
    # Read but not acknowledged: the next poll goes on after them, and they stay (the queue is full).
    read = actor.poll(-1, first[-1][0], 0.0)
    assert read[0][0] == POLL_BATCH and len(actor._reports) == MAX_QUEUED
    # Acknowledged, they go; the training (held while the queue was full) makes the next ones.
    actor.poll(first[-1][0], read[-1][0], 0.0)
    wait_until(lambda: len(actor._reports), lambda n: n == MAX_QUEUED, what="the queue full again")
    numbers = [n for n, _ in actor.poll(first[-1][0], first[-1][0], 0.0)]
    assert numbers == list(range(POLL_BATCH, 2 * POLL_BATCH))


def test_controls_hold_and_hello_says_them(actor):
    wait_until(lambda: actor.trainer, lambda t: t is not None, what="the actor's trainer")
    actor.control({**RUNNING, "pace": 500}, 1)
    actor.control({**RUNNING, "pace": 500, "pause": True}, 2)
    hello = actor.hello()
    assert hello["pause"] is True and hello["pace"] == 500 and hello["stop"] is False and hello["pid"] > 0
    assert hello["version"] == 2 and actor.trainer is not None and actor.trainer.paused
    actor.control({**RUNNING, "pace": 500}, 3)
    assert actor.hello()["pause"] is False and not actor.trainer.paused


def test_controls_overtaken_by_newer_ones_are_ignored(actor):
    wait_until(lambda: actor.trainer, lambda t: t is not None, what="the actor's trainer")
    actor.control({**RUNNING, "pace": 800}, 2)                    # a resume (and a pace) sent second...
    actor.control({**RUNNING, "pause": True, "pace": 500}, 1)     # ...ran before the pause sent first
    assert actor.hello() | {"pid": 0} == {**RUNNING, "pace": 800, "version": 2, "pid": 0}
    assert not actor.trainer.paused


def test_a_step_waits_for_the_pause_sent_before_it(actor):
    wait_until(lambda: actor.trainer, lambda t: t is not None, what="the actor's trainer")
    answers: list[dict] = []
    step = threading.Thread(target=lambda: answers.append(actor.steps(2, 1)))
    step.start()                                           # the step's call ran first...
    wait_until(lambda: len(actor._applied._waiters), lambda n: n == 1, what="the step waiting")
    actor.control({**RUNNING, "pause": True}, 1)           # ...then the pause it was sent after
    step.join(timeout=60)
    assert answers and answers[0]["error"] is None and answers[0]["taken"] == 2, answers
    assert actor.trainer.paused   # a step leaves the run paused


def test_a_cluster_that_is_not_there_is_said_at_once(mnist):
    from tests.support.server import free_port
    address = f"127.0.0.1:{free_port()}"   # nobody listens there
    with pytest.raises(ConnectionError, match=f"cannot reach the Ray cluster at {address}"):
        RayExecutor(lambda: mnist, address)
