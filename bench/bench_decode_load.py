"""Health latency while clients post the slowest image the limits allow (a 4096x4096 16-bit PNG of
~140 KB), against health latency with no load, measured in the same run on the same server.

    python bench/bench_decode_load.py [--posters 4] [--samples 200]

The goal: health p99 under 100 ms while four clients post it. The
tests check the mechanism (decoding leaves the event loop free) without timing anything; this
prints the figures, which belong in docs/performance.md with their date.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.studio import request, studio  # noqa: E402
from tests.test_reliability_images import multipart, worst_image  # noqa: E402


def health_times(url: str, samples: int) -> np.ndarray:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        assert request(f"{url}/api/health", timeout=120)[0] == 200
        times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def show(label: str, ms: np.ndarray) -> None:
    p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
    print(f"{label:<34} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   (n={len(ms)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posters", type=int, default=4)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    body, content_type = multipart(worst_image())
    stop, answered = threading.Event(), [0] * args.posters

    def post_forever(url: str, i: int) -> None:
        while not stop.is_set():
            request(f"{url}/api/predict", "POST", body, {"Content-Type": content_type}, timeout=120)
            answered[i] += 1

    with tempfile.TemporaryDirectory() as state, studio(Path(state), "--no-train") as server:
        idle = health_times(server.url, args.samples)
        posters = [threading.Thread(target=post_forever, args=(server.url, i)) for i in range(args.posters)]
        for t in posters:
            t.start()
        while not all(answered):
            time.sleep(0.05)
        loaded = health_times(server.url, args.samples)
        stop.set()
        for t in posters:
            t.join(timeout=120)
    show("health, no load", idle)
    show(f"health, {args.posters} clients posting", loaded)
    print(f"p99 under load / p99 idle: {np.percentile(loaded, 99) / np.percentile(idle, 99):.1f}x; "
          f"posts answered: {sum(answered)}; goal: p99 under load <= 100 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
