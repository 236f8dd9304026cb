"""A run's Ray actor (app/server/executors/ray_actor.py) as a plain object, without Ray: its reports wait
until a server acknowledges them, a poll whose answer was lost (its server died) is answered again,
and when the queue is full the training waits instead of dropping reports or growing without bound.
A cluster that is not there is said at once, not after Ray's minutes of retrying."""

from __future__ import annotations

import pytest

from app.server.executors.ray import RayExecutor
from app.server.executors.ray_actor import MAX_QUEUED, POLL_BATCH, RunActor
from app.training.config import TrainConfig
from tests.support.wait import wait_until

# Full speed, many epochs: it would make far more than MAX_QUEUED reports if nothing held it back.
CONFIG = TrainConfig(hidden=[16], train_subset=1000, validation_size=100, epochs=200, pace="full")
LEASE = 3600.0   # longer than any test: an actor whose lease lapses ends its process (here: pytest)


@pytest.fixture
def actor(mnist):
    actor = RunActor(mnist, CONFIG.to_dict(), None, 0, 0.0, "full", False, LEASE)
    yield actor
    actor.control("stop")
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
    actor.control("pace", 500)
    actor.control("pause")
    hello = actor.hello()
    assert hello["pause"] is True and hello["pace"] == 500 and hello["stop"] is False and hello["pid"] > 0
    actor.control("resume")
    assert actor.hello()["pause"] is False


def test_a_cluster_that_is_not_there_is_said_at_once(mnist):
    from tests.support.server import free_port
    address = f"127.0.0.1:{free_port()}"   # nobody listens there
    with pytest.raises(ConnectionError, match=f"cannot reach the Ray cluster at {address}"):
        RayExecutor(lambda: mnist, address)
