"""A run on Ray through three restarts of its server (run by tests/support/ray_cluster.py, inside the
test's own network namespace, on the cluster it started; the run comes from its first scenario).

1. kill -9 of the server, then a new server on the same state folder: the run is still training on
   the same actor (same pid); the first figures the new server shows are past the run's checkpoint
   (it was not resumed from there); examples_seen goes on beyond what the killed server had shown;
   the history never steps back; live frames come; pause, step, resume and pace work.
2. SIGTERM of that server (a graceful stop), then a third: the same actor again, the pace kept.
3. kill -9, and the actor killed too (as a restarted cluster or a lapsed lease would leave it): the
   fourth server finds the run `interrupted`, kills an actor of this studio for a run it never had,
   and the run resumes from its checkpoint on a new actor; stopped, no actor of ours is left.
Besides, an actor that no server calls ends by itself once its lease runs out.
Every check is an assert.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from app.server.executors.ray_actor import RunActor
from app.training.config import TrainConfig
from app.training.mnist import Mnist, Split, load_mnist
from app.training.modelfile import load_model
from tests.support.procs import server_pid
from tests.support.server import running_server
from tests.support.wait import wait_until
from tests.test_persistence import call

NAMESPACE = "digit-studio"


def our_actors() -> list[str]:
    import ray
    return sorted(a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                  if a["namespace"] == NAMESPACE)


def get(url: str, run_id: str) -> dict:
    return call(f"{url}/api/runs/{run_id}")[1]


def kill_server(url: str, state: Path, run_id: str) -> dict:
    """Once the run is past its first epoch (a checkpoint to resume from), kill -9 its server; return
    what the server showed last and the run's actor pid."""
    import ray
    wait_until(lambda: get(url, run_id), lambda r: r["progress"]["epoch"] >= 1.2, what="a checkpoint")
    name = f"digit-studio-{(state / 'studio-id').read_text().strip()}-{run_id}"
    pid = ray.get(ray.get_actor(name, namespace=NAMESPACE).pid.remote())
    # Killed just after what it shows has passed its newest checkpoint: read once, an epoch's end (one
    # a second here) could land between the reading and the kill, leaving the two equal.
    checkpoint = state / "checkpoints" / f"{run_id}.npz"
    shown, _ = wait_until(lambda: (get(url, run_id)["progress"]["examples_seen"],
                                   load_model(checkpoint)[1]["progress"]["examples_seen"]),
                          lambda seen: seen[0] > seen[1], what="the run past its newest checkpoint")
    os.kill(server_pid(int(url.rsplit(':', 1)[1])), signal.SIGKILL)
    return {"actor": name, "restart_pid": pid, "shown_before_kill": shown}


def restart_scenario(state: Path, before: dict, address: str, live_frames: Any) -> dict:
    import ray
    serve = ("--no-train", "--ray", address, "--max-runs", "2")
    rid, name, pid, shown = before["run"], before["actor"], before["restart_pid"], before["shown_before_kill"]
    actor = ray.get_actor(name, namespace=NAMESPACE)
    checkpoint = load_model(state / "checkpoints" / f"{rid}.npz")[1]["progress"]["examples_seen"]
    assert checkpoint < shown, (checkpoint, shown)
    summary: dict = {"checkpoint": checkpoint}
    with running_server(*serve, state_dir=state) as url:                       # 1. after kill -9
        first = get(url, rid)
        assert first["status"] == "running" and first["progress"]["examples_seen"] > checkpoint, first
        assert ray.get(actor.pid.remote()) == pid
        later = wait_until(lambda: get(url, rid), lambda r: r["progress"]["examples_seen"] > shown,
                           what="the run going on past what the killed server showed")
        summary["live_after_kill"] = asyncio.run(live_frames(url, rid))
        # (two points may share a step: the trainer reports an epoch's end at the step it last reported)
        points = call(f"{url}/api/runs/{rid}/history")[1]["points"]
        back = [(a, b) for a, b in zip(points, points[1:], strict=False) if b["step"] < a["step"]]
        assert not back, f"the history stepped back: {back}"
        assert call(f"{url}/api/runs/{rid}/pause", "POST")[1]["status"] == "paused"
        status, stepped = call(f"{url}/api/runs/{rid}/step", "POST", {"steps": 2})
        assert status == 200 and stepped["examples_seen"] == stepped["examples_seen_before"] + 20, stepped
        assert call(f"{url}/api/runs/{rid}/resume", "POST")[1]["status"] == "running"
        assert call(f"{url}/api/runs/{rid}/pace", "POST", {"pace": 3000})[0] == 200
        at_term = wait_until(lambda: get(url, rid), lambda r: r["progress"]["examples_seen"]
                             > stepped["examples_seen"], what="the run going on after the steps")
    assert ray.get(actor.pid.remote()) == pid   # SIGTERM (running_server's stop): its actor trains on
    with running_server(*serve, state_dir=state) as url:                       # 2. after SIGTERM
        again = get(url, rid)
        assert again["status"] == "running" and again["pace"] == 3000, again
        assert again["progress"]["examples_seen"] >= at_term["progress"]["examples_seen"], again
        assert ray.get(actor.pid.remote()) == pid
        wait_until(lambda: get(url, rid), lambda r: r["progress"]["examples_seen"]
                   > again["progress"]["examples_seen"], what="the run going on after a graceful restart")
        os.kill(server_pid(int(url.rsplit(':', 1)[1])), signal.SIGKILL)
    ray.kill(actor)                               # 3. the actor gone too
    orphan = _orphan(ray, name.rsplit("-", 1)[0] + "-r999")
    lapsing = _lapsing_actor(ray)
    with running_server(*serve, state_dir=state) as url:
        lost = get(url, rid)
        assert lost["status"] == "interrupted" and "resume" in lost["error"], lost
        wait_until(our_actors, lambda names: orphan not in names, what="the actor of an unknown run killed")
        assert call(f"{url}/api/runs/{rid}/resume", "POST")[0] == 200
        resumed = wait_until(lambda: get(url, rid), lambda r: r["status"] == "running" and r["progress"]
                             ["examples_seen"] != lost["progress"]["examples_seen"], what="the run resumed")
        assert ray.get(ray.get_actor(name, namespace=NAMESPACE).pid.remote()) != pid
        call(f"{url}/api/runs/{rid}/stop", "POST")
        stopped = wait_until(lambda: get(url, rid), lambda r: r["status"] == "stopped", what="the stop")
        assert stopped["metrics"]["final"] is True
        wait_until(our_actors, lambda names: names == [], what="no actor of ours left (the lapsed one too)")
    summary.update(first_after_kill=first["progress"]["examples_seen"], lapsed=lapsing,
                   later_after_kill=later["progress"]["examples_seen"], first=stopped["status"],
                   interrupted=lost["error"], resumed_at=resumed["progress"]["examples_seen"])
    return summary


def _orphan(ray: Any, name: str) -> str:
    """Start a detached actor named as this studio's actor of a run it never had; return its name."""
    @ray.remote(num_cpus=0)
    class Orphan:
        def ready(self) -> bool:
            return True
    handle = Orphan.options(name=name, namespace=NAMESPACE, lifetime="detached").remote()
    assert ray.get(handle.ready.remote())
    return name


def _lapsing_actor(ray: Any) -> str:
    """Start a run's actor (on a small slice of MNIST) with a lease of 2 s that no server will call;
    return its name once it trains (its pid answers; asking it does not renew the lease)."""
    mnist = load_mnist()
    small = Mnist(Split(mnist.train.images[:3000], mnist.train.labels[:3000]),
                  Split(mnist.test.images[:1000], mnist.test.labels[:1000]), mnist.checksums)
    config = TrainConfig(hidden=[16], train_subset=1000, validation_size=100, epochs=30, pace=2000)
    name = "digit-studio-lease-r1"
    remote = ray.remote(num_cpus=0)(RunActor).options(name=name, namespace=NAMESPACE, lifetime="detached")
    handle = remote.remote(small, config.to_dict(), None, 0, 0.1, config.pace, False, 2.0)
    assert ray.get(handle.pid.remote()) > 0
    return name
