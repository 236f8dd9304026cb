"""One BLAS thread or two for the training step's widest product (16x785 by 785x10, float32)?

Times blocks of 2,000 products, alternating between 1 and 2 BLAS threads, and prints the median,
quartiles and worst block of each (docs/performance.md, "BLAS threads").

    python3 bench/blas_threads.py [--blocks 40]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=40, help="blocks per thread count (default 40)")
    args = parser.parse_args()
    W, x = np.ones((16, 785), np.float32), np.ones((10, 785), np.float32)
    z = np.empty((16, 10), np.float32)
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.blocks):
        for n in times:
            with threadpool_limits(n, "blas"):
                start = time.perf_counter()
                for _ in range(2000):
                    np.dot(W, x.T, z)
                times[n].append((time.perf_counter() - start) / 2000 * 1e6)
    for n, v in times.items():
        q1, q2, q3 = statistics.quantiles(v, n=4)
        print(f"{n} BLAS thread(s): median {q2:.1f} us a product [quartiles {q1:.1f}-{q3:.1f}], "
              f"worst block {max(v):.1f} us")


if __name__ == "__main__":
    main()
