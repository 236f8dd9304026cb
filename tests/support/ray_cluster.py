"""A real Ray cluster and a studio server on it, all inside the caller's own network namespace.

    unshare -n python3 -m tests.support.ray_cluster WORKDIR

Run by tests/test_ray.py. It brings up the namespace's loopback (the only interface there, so no
traffic can leave this machine), makes a token (RAY_AUTH_MODE=token, HOME=WORKDIR so the token is
WORKDIR/.ray/auth_token), starts a head (1 CPU) and a second node (1 CPU) on 127.0.0.1, serves the
studio with --ray, and takes runs through it, then the first run through three restarts of its
server (ray_restart.py). Every check is an assert; the last line printed is a
JSON summary for the caller. The cluster is stopped whatever happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

from websockets.asyncio.client import connect

from app.training.mnist import load_mnist
from tests.support.procs import processes
from tests.support.ray_restart import kill_server, restart_scenario
from tests.support.server import running_server
from tests.support.wait import wait_until
from tests.test_persistence import call

GCS_PORT = 8790
ADDRESS = f"127.0.0.1:{GCS_PORT}"
# Paced, and the most epochs allowed: at 2,000 examples/s the actor trains on while the server, slowed by a
# busy machine, is still at its checks; 30 epochs (30 s) could end the run mid-scenario (a step refused).
LONG = {"hidden": [16, 16], "train_subset": 2000, "validation_size": 100, "epochs": 1000, "pace": 2000}


# Every node of a test cluster: one CPU, on the namespace's loopback, a small object store.
NODE = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--object-store-memory", str(400 * 2**20)]


def ray_cli(*args: str) -> None:
    subprocess.run(["ray", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                   timeout=300)


def prepare_namespace(home: Path) -> None:
    """Bring up this network namespace's loopback and make the cluster's token (HOME/.ray/auth_token)."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    os.environ.update(HOME=str(home), RAY_AUTH_MODE="token", RAY_USAGE_STATS_ENABLED="0")
    ray_cli("get-auth-token", "--generate")


def start_head(port: int) -> None:
    ray_cli("start", "--head", "--port", str(port), "--include-dashboard=false", "--disable-usage-stats",
            *NODE)


def add_node(address: str) -> None:
    ray_cli("start", "--address", address, *NODE)


def stop_cluster() -> None:
    subprocess.run(["ray", "stop", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                   timeout=120)


def actor_processes() -> dict[int, int]:
    """Return {pid: parent pid} of the processes running our actors (titled ray::RunActor)."""
    return {pid: ppid for pid, cmd, ppid in processes() if any(b"ray::RunActor" in part for part in cmd)}


async def live_frames(url: str, run_id: str, n: int = 3) -> list[str]:
    ws = url.replace("http://", "ws://") + f"/api/runs/{run_id}/live"
    kinds: list[str] = []
    async with connect(ws, max_size=2**22) as socket:
        while len(kinds) < n or "weights" not in kinds:
            kinds.append(json.loads(await asyncio.wait_for(socket.recv(), 60))["type"])
    return kinds


def scenario(work: Path) -> dict:
    run = lambda url, i: call(f"{url}/api/runs/{i}")[1]   # noqa: E731
    summary: dict = {}
    with running_server("--no-train", "--ray", ADDRESS, "--max-runs", "2",
                        state_dir=work / "state") as url:
        _, first = call(f"{url}/api/runs", "POST", {**LONG, "name": "first"})
        a = first["id"]
        wait_until(lambda: run(url, a), lambda r: r["progress"]["step"] > 0, what="the first run training")
        summary["live"] = asyncio.run(live_frames(url, a))
        assert call(f"{url}/api/runs/{a}/pause", "POST")[1]["status"] == "paused"
        status, stepped = call(f"{url}/api/runs/{a}/step", "POST", {"steps": 3})
        assert status == 200 and stepped["steps"] == 3, stepped
        assert stepped["examples_seen"] == stepped["examples_seen_before"] + 30
        assert call(f"{url}/api/runs/{a}/resume", "POST")[1]["status"] == "running"
        wait_until(lambda: run(url, a), lambda r: r["progress"]["examples_seen"] > stepped["examples_seen"])
        digit = load_mnist().test.images[0]
        status, answer = call(f"{url}/api/predict?run={a}", "POST", {"pixels": digit.tolist()})
        assert status == 200 and 0 <= answer["digit"] <= 9, answer
        status, saved = call(f"{url}/api/runs/{a}/save", "POST", {"name": "from-ray"})
        assert status == 201, saved
        # A second run at once: one actor per node (each node has one CPU, each actor takes one).
        _, second = call(f"{url}/api/runs", "POST", {**LONG, "name": "second"})
        b = second["id"]
        wait_until(lambda: run(url, b), lambda r: r["progress"]["step"] > 0, what="the second run training")
        actors = wait_until(actor_processes, lambda found: len(found) == 2, what="two actor processes")
        summary["actor_parents"] = sorted(set(actors.values()))
        assert len(summary["actor_parents"]) == 2, f"both actors on one raylet: {actors}"
        # ray.kill on the second run's actor (found by its name): that run is interrupted, cleanly.
        import ray  # not at the top: ray reads RAY_AUTH_MODE when imported
        names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
        victim = next(n for n in names if n.startswith("digit-studio-") and n.endswith(f"-{b}"))
        ray.kill(ray.get_actor(victim, namespace="digit-studio"))
        ended = wait_until(lambda: run(url, b), lambda r: r["status"] != "running", what="the killed run")
        assert ended["status"] == "interrupted" and "Ray actor" in ended["error"], ended
        assert call(f"{url}/api/health")[0] == 200
        assert run(url, a)["status"] == "running"
        summary.update(killed=victim, second=ended["status"], saved=saved["name"], run=a)
        # The first run goes on through restarts of its server (ray_restart.py); this server is killed.
        summary.update(kill_server(url, work / "state", a))
    return summary


def main() -> None:
    work = Path(sys.argv[1])
    prepare_namespace(work)
    import ray
    try:
        start_head(GCS_PORT)
        add_node(ADDRESS)
        ray.init(address=ADDRESS, log_to_driver=False)
        summary = scenario(work)
        summary.update(restart_scenario(work / "state", summary, ADDRESS, live_frames))
    except BaseException:
        # Said now: a driver still connected when the cluster stops may be ended by Ray before Python
        # prints the traceback.
        traceback.print_exc()
        raise
    finally:
        ray.shutdown()
        stop_cluster()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
