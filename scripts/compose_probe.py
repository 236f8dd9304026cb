"""Take a run through a studio started by deploy/compose.yaml (scripts/compose-check.sh calls this).

Checks, each by waiting for the event (generous deadlines, no fixed sleeps): the studio answers health;
its first run trains as an actor of the Ray cluster; a run started through the API (slow pace) gets an
actor on the Ray worker node, goes to full speed and finishes with a test accuracy; predict `?run=`
reads a real MNIST test digit with it; a restart of the studio's container in the middle leaves the
run training on its actor. Prints one JSON line of what it saw and how long each part took.
Host side: Python's standard library only; the Ray and MNIST parts run inside the studio container.
Usage: python3 scripts/compose_probe.py --url http://127.0.0.1:18301 --token T --studio CONTAINER [--no-ray]
(--no-ray: the plain image, `docker run` as the README says; its runs train in worker processes.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

# Run inside the studio container: where the run's actor lives (the driver runs on the studio's node).
WHERE_IS_ACTOR = """
import json, sys, ray
ray.init(address="ray-head:6379", log_to_driver=False)
names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
         if a["namespace"] == "digit-studio" and a["name"].endswith("-" + sys.argv[1])]
nodes = {n["NodeID"]: n for n in ray.nodes() if n["Alive"]}
out = []
for name in names:
    node = nodes[ray.get(ray.get_actor(name, namespace="digit-studio").node.remote())]
    out.append({"actor": name, "node": node["NodeManagerAddress"],
                "node_cpus": node["Resources"].get("CPU", 0)})
print(json.dumps({"actors": out, "nodes": [[n["NodeManagerAddress"], n["Resources"].get("CPU", 0)]
                                           for n in nodes.values()]}))
"""

# Run inside the studio container: predict the first MNIST test digit with the run's weights.
PREDICT = """
import json, sys, urllib.request
from app.training.mnist import load_mnist
test = load_mnist().test
body = json.dumps({"pixels": test.images[0].tolist()}).encode()
request = urllib.request.Request("http://127.0.0.1:8000/api/predict?run=" + sys.argv[1], data=body,
                                 headers={"Content-Type": "application/json"})
answer = json.load(urllib.request.urlopen(request, timeout=30))
print(json.dumps({"label": int(test.labels[0]), "digit": answer["digit"], "model": answer["model"]["kind"]}))
"""


def call(url: str, method: str = "GET", body: dict | None = None, token: str = "") -> Any:
    """Return the JSON answer of one API call."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as r:
        return json.load(r)


def wait_for(what: str, check: Callable[[], Any], deadline_s: float) -> Any:
    """Return check()'s first truthy answer, polling; fail with `what` after deadline_s seconds."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < end:
        try:
            last = check()
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.5)
    sys.exit(f"compose-check: timed out after {deadline_s:.0f} s waiting for {what} (last: {last!r})")


def in_studio(container: str, script: str, *args: str) -> dict:
    """Return the JSON line that `script` prints when run by python inside the studio container."""
    done = subprocess.run(["podman", "exec", container, "python", "-c", script, *args],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"compose-check: in the studio container:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def restart_studio(container: str, api: str, run_id: str, placed: list[dict]) -> dict:
    """Return what a restart of the studio's container left of a training run (it must train on)."""
    before = call(f"{api}/runs/{run_id}")["progress"]["examples_seen"]
    t0 = time.monotonic()
    subprocess.run(["podman", "restart", container], check=True, capture_output=True, timeout=300)
    wait_for("GET /api/health after the restart", lambda: call(f"{api}/health"), 600)
    back_s = round(time.monotonic() - t0, 1)
    after = wait_for("the run to train on after the restart", lambda: (r := call(f"{api}/runs/{run_id}"))[
        "status"] == "running" and r["progress"]["examples_seen"] > before and r, 300)
    actors = in_studio(container, WHERE_IS_ACTOR, run_id)["actors"]
    if [a["actor"] for a in actors] != [a["actor"] for a in placed]:
        sys.exit(f"compose-check: after the restart the run's actor is {actors}, not {placed}")
    return {"back_after_s": back_s, "examples_before": before,
            "examples_after": after["progress"]["examples_seen"], "same_actor": True}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--studio", required=True, help="the studio's container name")
    parser.add_argument("--no-ray", dest="ray", action="store_false",
                        help="the plain image (runs in worker processes): no Ray checks")
    args = parser.parse_args()
    api, seen, t0 = f"{args.url}/api", {}, time.monotonic()

    def actors(run_id: str) -> list[dict]:
        """Return where the run's actor is, once it is there (without Ray: nothing, at once)."""
        if not args.ray:
            return []
        def where() -> list[dict]:
            return in_studio(args.studio, WHERE_IS_ACTOR, run_id)["actors"]
        return wait_for(f"the actor of {run_id}", where, 300)

    def training() -> list[dict]:
        return [r for r in call(f"{api}/runs") if r["status"] == "running" and r["progress"]]

    health = wait_for("GET /api/health", lambda: call(f"{api}/health"), 600)
    seen["health"], seen["health_after_s"] = health, round(time.monotonic() - t0, 1)
    first = wait_for("the first run to train", training, 300)[0]
    seen["first_run"] = {"id": first["id"], "actors": actors(first["id"])}

    # Slow enough to find its actor while it trains; then full speed to the end.
    t1 = time.monotonic()
    run = call(f"{api}/runs", "POST", {"epochs": 2, "pace": 500}, args.token)
    wait_for("the new run to start", lambda: call(f"{api}/runs/{run['id']}")["progress"], 300)
    placed = actors(run["id"])
    seen["api_run"] = {"id": run["id"], "placed": placed, "started_after_s": round(time.monotonic() - t1, 1)}
    if args.ray:   # Ray actors outlive their server: restart the studio, the run trains on
        seen["restart"] = restart_studio(args.studio, api, run["id"], placed)
    call(f"{api}/runs/{run['id']}/pace", "POST", {"pace": "full"}, args.token)
    t2 = time.monotonic()
    done = wait_for("the run to finish", lambda: (r := call(f"{api}/runs/{run['id']}"))["status"] in
                    {"finished", "failed", "interrupted", "stopped", "diverged"} and r, 900)
    metrics = done["metrics"] or {}
    seen["api_run"].update(status=done["status"], error=done["error"], epochs=done["progress"]["epoch"],
                           full_speed_s=round(time.monotonic() - t2, 1),
                           test_accuracy=metrics.get("test_accuracy"),
                           examples_per_second=round(metrics.get("examples_per_second") or 0))
    seen["predict"] = in_studio(args.studio, PREDICT, run["id"])
    print(json.dumps(seen))

    problems = []
    for what, found in (("the first run", seen["first_run"]["actors"]), ("the API's run", placed)):
        if args.ray and not any(actor["node_cpus"] > 0 for actor in found):
            problems.append(f"{what} is not training on a Ray node with CPUs (the worker)")
    if done["status"] != "finished" or (metrics.get("test_accuracy") or 0) < 0.85:
        problems.append(f"the API's run ended {done['status']} at accuracy {metrics.get('test_accuracy')}")
    predict = seen["predict"]
    if predict["digit"] != predict["label"]:
        problems.append(f"predict ?run= read the test digit {predict['label']} as {predict['digit']}")
    for problem in problems:
        print(f"compose-check: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
