"""Runs per minute on a Ray cluster of 1 and 2 nodes (one CPU each), against the local process executor.

    python bench/bench_cluster.py [--runs 6] [--epochs 1]

Re-runs itself inside a network namespace of its own (`unshare --map-root-user --net`):
only loopback exists there, so Ray's traffic cannot leave the machine. It makes a Ray token
(RAY_AUTH_MODE=token, HOME in a temporary folder), starts a head with one CPU, and times --runs runs of
the video's network (--epochs each, full training set) through a RunManager on the Ray executor; then
adds a second node (one CPU) and times them again; then the same runs through the local process
executor with one worker (no Ray). Reported: runs per minute, and seconds per run beyond the process
executor's (the overhead of an actor: its start, MNIST from the object store, reports through Ray).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.server.runs import RunManager  # noqa: E402
from app.training.config import TrainConfig  # noqa: E402
from tests.support.ray_cluster import add_node, prepare_namespace, start_head, stop_cluster  # noqa: E402
from tests.support.wait import wait_until  # noqa: E402

ADDRESS = "127.0.0.1:8791"


def timed(manager: RunManager, runs: int, epochs: int) -> float:
    """Return the seconds `runs` runs took, from the first create to the last finish."""
    start = time.monotonic()
    made = [manager.create(TrainConfig(epochs=epochs)) for _ in range(runs)]
    wait_until(lambda: [r.status for r in made], lambda s: not {"queued", "running"} & set(s), timeout=1800,
               what="the runs to finish")
    bad = [(r.id, r.status, r.error) for r in made if r.status != "finished"]
    if bad:
        raise SystemExit(f"runs did not finish: {bad}")
    return time.monotonic() - start


def inside(args: argparse.Namespace) -> dict:
    prepare_namespace(Path(tempfile.mkdtemp(prefix="digit-studio-ray-")))
    report: dict = {"runs": args.runs, "epochs": args.epochs}
    try:
        start_head(int(ADDRESS.split(":")[1]))
        for nodes in (1, 2):
            if nodes == 2:
                add_node(ADDRESS)
            manager = RunManager(nodes, executor="ray", ray_address=ADDRESS)
            timed(manager, 1, args.epochs)   # warm-up: MNIST into the object store, a first actor
            seconds = timed(manager, args.runs, args.epochs)
            report[f"ray_{nodes}_node_runs_per_min"] = round(args.runs / seconds * 60, 1)
            report[f"ray_{nodes}_node_s_per_run"] = round(seconds / args.runs * nodes, 2)
            manager.shutdown()
    finally:
        stop_cluster()
    manager = RunManager(1, executor="process")
    timed(manager, 1, args.epochs)
    seconds = timed(manager, args.runs, args.epochs)
    manager.shutdown()
    report["process_1_worker_runs_per_min"] = round(args.runs / seconds * 60, 1)
    report["process_s_per_run"] = round(seconds / args.runs, 2)
    report["ray_overhead_s_per_run"] = round(report["ray_1_node_s_per_run"] - report["process_s_per_run"], 2)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (1 <= args.runs <= 50 and 1 <= args.epochs <= 30):
        parser.error("bounded: --runs 1..50, --epochs 1..30")
    if args.inside:
        print(json.dumps(inside(args), indent=2))
        return
    cmd = ["unshare", "--map-root-user", "--net", sys.executable, __file__, "--inside",
           "--runs", str(args.runs), "--epochs", str(args.epochs)]
    raise SystemExit(subprocess.run(cmd, timeout=3600).returncode)


if __name__ == "__main__":
    main()
