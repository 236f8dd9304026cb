"""What a busy neighbouring core costs a run that has a core of its own (bench_load.py --pin's case).

    python bench/bench_neighbour.py [--cycles 6] [--window 3]

The video's network trains at full speed in this process, pinned to core 1 (the Trainer, as a worker
runs it). Core 0 takes turns, window by window: idle; a pure-Python spin (the CPU busy, almost no
memory touched); and a memory stream (NumPy copying 64 MB over and over, as a busy server's caches
would). If training slows with the spin, the two cores are not independent (on a virtual machine they
may be two hardware threads of one physical core), and no code of ours can buy that share back.
Printed: examples/s per window, and each load's median against the idle windows around it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.training.config import TrainConfig  # noqa: E402
from app.training.mnist import load_mnist  # noqa: E402
from app.training.threads import pin_blas_threads  # noqa: E402
from app.training.trainer import Progress, Trainer  # noqa: E402

MODES = ("idle", "spin", "memory")


def neighbour(mode: str) -> None:
    """Keep core 0 busy in `mode` until killed (a process of its own)."""
    os.sched_setaffinity(0, {0})
    if mode == "spin":
        x = 0
        while True:
            x += 1
    import numpy as np
    a, b = np.ones(8 * 2**20), np.empty(8 * 2**20)   # 64 MB each, well over the caches
    while True:
        np.copyto(b, a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=6, help="rounds of idle, spin, memory (default 6)")
    parser.add_argument("--window", type=float, default=3.0, help="seconds per window (default 3)")
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2 or not (1 <= args.cycles <= 30 and 0.5 <= args.window <= 30):
        parser.error("needs two cores; --cycles 1..30, --window 0.5..30")
    os.sched_setaffinity(0, {1})
    pin_blas_threads()
    latest: list[Progress] = []
    trainer = Trainer(TrainConfig(epochs=1000, pace="full"), load_mnist(), latest.append, report_seconds=0.05)
    threading.Thread(target=trainer.run, daemon=True).start()
    while not latest:
        time.sleep(0.1)
    time.sleep(2.0)   # past the first epoch's set-up

    def seen() -> tuple[float, int]:
        return time.monotonic(), latest[-1].examples_seen

    speeds: dict[str, list[float]] = {m: [] for m in MODES}
    ctx = mp.get_context("spawn")
    print(f"load average {os.getloadavg()[0]:.2f}; examples/s per window:")
    for _ in range(args.cycles):
        for mode in MODES:
            proc = None if mode == "idle" else ctx.Process(target=neighbour, args=(mode,), daemon=True)
            if proc is not None:
                proc.start()
                time.sleep(0.5)   # started and pinned
            t0, e0 = seen()
            time.sleep(args.window)
            t1, e1 = seen()
            if proc is not None:
                proc.kill()
                proc.join()
            speeds[mode].append((e1 - e0) / (t1 - t0))
            print(f"  {mode:<7} {speeds[mode][-1]:>9,.0f}", flush=True)
    trainer.stop()
    idle = speeds["idle"]
    for mode in MODES[1:]:
        ratios = [s / i for s, i in zip(speeds[mode], idle, strict=True)]
        print(f"{mode}: median {statistics.median(speeds[mode]):,.0f} examples/s, "
              f"{statistics.median(ratios):.1%} of idle (paired by cycle, "
              f"range {min(ratios):.1%}-{max(ratios):.1%})")
    print(f"idle: median {statistics.median(idle):,.0f} examples/s; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
