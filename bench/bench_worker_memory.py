"""Memory of runs in worker processes: what one run costs beside the MNIST they share.

    python bench/bench_worker_memory.py [--runs 4] [--subset N]

A RunManager with the process executor (no server) starts --runs runs of the video's network at once
(the full training set, or --subset examples each), waits until every one trains, and reads each
worker's /proc/PID/smaps_rollup: Rss, Pss (its fair share of shared pages), Private (its own) and
Shared, beside the shared-memory blocks' size and the server process's own RSS. Then stops them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.server.runs import RunManager  # noqa: E402
from app.training.config import TrainConfig  # noqa: E402
from tests.support.procs import memory  # noqa: E402


def smaps(pid: int) -> dict[str, float]:
    fields = {name: kb / 1024 for name, kb in memory(pid).items()}
    return {"rss_mb": round(fields["Rss"], 1), "pss_mb": round(fields["Pss"], 1),
            "private_mb": round(fields["Private_Clean"] + fields["Private_Dirty"], 1),
            "shared_mb": round(fields["Shared_Clean"] + fields["Shared_Dirty"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--subset", type=int, default=None, help="training examples per run (default all)")
    args = parser.parse_args()
    if not 1 <= args.runs <= 8:
        parser.error("--runs 1..8")
    manager = RunManager(args.runs, executor="process")
    try:
        runs = [manager.create(TrainConfig(epochs=50, train_subset=args.subset)) for _ in range(args.runs)]
        deadline = time.monotonic() + 300
        while any(r.latest is None or r.latest.epoch < 1.2 for r in runs):   # past an epoch: both buffers
            if time.monotonic() > deadline:
                raise SystemExit("runs did not train within 300 s")
            time.sleep(0.5)
        executor = manager.executor()
        workers = {pid: smaps(pid) for pid in executor.pids()}   # type: ignore[attr-defined]
        report = {"runs": args.runs, "subset": args.subset,
                  "shared_mnist_mb": round(executor.shared().nbytes / 2**20, 1),   # type: ignore[attr-defined]
                  "server": smaps(os.getpid()), "workers": workers}
    finally:
        manager.shutdown()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
