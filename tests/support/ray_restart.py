"""A run on Ray through two restarts of its server (run by tests/support/ray_cluster.py, inside the
test's own network namespace, on the cluster it started).

kill -9 of the server, then a new server on the same state folder: the run is still training on the
same actor (same pid), the first figures the new server shows are past the run's checkpoint (it was
not resumed from there), examples_seen goes on beyond what the killed server had shown, the history
never steps back, live frames come, and pause, step, resume and pace work. Then a graceful stop
(SIGTERM) and a third server: the same actor again, the pace set before the restart kept; an actor
of this studio for a run it does not know is killed at start; stop ends the run and no actor of ours
is left. Every check is an assert.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from app.training.modelfile import load_model
from tests.support.server import running_server
from tests.support.wait import wait_until
from tests.test_persistence import call

NAMESPACE = "digit-studio"


def server_pid(url: str) -> int:
    """Return the pid of the `digit-studio serve` process listening on `url`'s port (found in /proc)."""
    port = url.rsplit(":", 1)[1].encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmd and b"--port" in cmd and port in cmd:
                return int(entry.name)
    raise AssertionError(f"no server process on port {port!r}")


def our_actors() -> list[str]:
    import ray
    return sorted(a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                  if a["namespace"] == NAMESPACE)


def restart_scenario(work: Path, address: str, config: dict, live_frames: Any) -> dict:
    import ray
    state = work / "restart-state"
    serve = ("--no-train", "--ray", address, "--max-runs", "2")
    run = lambda url, i: call(f"{url}/api/runs/{i}")[1]   # noqa: E731
    summary: dict = {}
    with running_server(*serve, state_dir=state) as url:
        _, made = call(f"{url}/api/runs", "POST", {**config, "name": "through restarts"})
        rid = made["id"]
        # Past its first epoch's end: a checkpoint a resume would start from.
        wait_until(lambda: run(url, rid), lambda r: r["progress"]["epoch"] >= 1.2, what="the run training")
        name = f"digit-studio-{(state / 'studio-id').read_text().strip()}-{rid}"
        actor = ray.get_actor(name, namespace=NAMESPACE)
        pid = ray.get(actor.pid.remote())
        shown = run(url, rid)["progress"]["examples_seen"]
        os.kill(server_pid(url), signal.SIGKILL)
    checkpoint = load_model(state / "checkpoints" / f"{rid}.npz")[1]["progress"]["examples_seen"]
    assert checkpoint < shown, (checkpoint, shown)
    with running_server(*serve, state_dir=state) as url:
        first = run(url, rid)
        assert first["status"] == "running" and first["progress"]["examples_seen"] > checkpoint, first
        assert ray.get(actor.pid.remote()) == pid
        later = wait_until(lambda: run(url, rid), lambda r: r["progress"]["examples_seen"] > shown,
                           what="the run going on past what the killed server showed")
        summary["live_after_kill"] = asyncio.run(live_frames(url, rid))
        steps = [p["step"] for p in call(f"{url}/api/runs/{rid}/history")[1]["points"]]
        assert steps == sorted(set(steps)), "the history stepped back"
        assert call(f"{url}/api/runs/{rid}/pause", "POST")[1]["status"] == "paused"
        status, stepped = call(f"{url}/api/runs/{rid}/step", "POST", {"steps": 2})
        assert status == 200 and stepped["examples_seen"] == stepped["examples_seen_before"] + 20, stepped
        assert call(f"{url}/api/runs/{rid}/resume", "POST")[1]["status"] == "running"
        assert call(f"{url}/api/runs/{rid}/pace", "POST", {"pace": 3000})[0] == 200
        before_term = wait_until(lambda: run(url, rid), lambda r: r["progress"]["examples_seen"]
                                 > stepped["examples_seen"], what="the run going on after the steps")
    # SIGTERM (running_server's stop): the server goes, its actor trains on.
    assert ray.get(actor.pid.remote()) == pid
    orphan = _orphan(ray, name.rsplit("-", 1)[0] + "-r999")
    with running_server(*serve, state_dir=state) as url:
        again = run(url, rid)
        assert again["status"] == "running" and again["pace"] == 3000, again
        assert again["progress"]["examples_seen"] >= before_term["progress"]["examples_seen"], again
        assert ray.get(actor.pid.remote()) == pid
        wait_until(our_actors, lambda names: orphan not in names, what="the actor of an unknown run killed")
        wait_until(lambda: run(url, rid), lambda r: r["progress"]["examples_seen"]
                   > again["progress"]["examples_seen"], what="the run going on after a graceful restart")
        call(f"{url}/api/runs/{rid}/stop", "POST")
        stopped = wait_until(lambda: run(url, rid), lambda r: r["status"] == "stopped", what="the stop")
        assert stopped["metrics"]["final"] is True
        wait_until(our_actors, lambda names: names == [], what="no actor of ours left")
    summary.update(restart_pid=pid, checkpoint=checkpoint, shown_before_kill=shown,
                   first_after_kill=first["progress"]["examples_seen"],
                   later_after_kill=later["progress"]["examples_seen"], restart_status=stopped["status"])
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
