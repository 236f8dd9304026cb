"""Training speed with 0 and with N connected live clients (each sending a drawing now and then).

    python bench/bench_live_clients.py [--clients 50] [--window 8] [--rounds 2]

A real `digit-studio serve` on 127.0.0.1 trains the video's network (500 epochs: it outlasts us).
We alternate windows with no client and windows with N WebSocket clients connected (reading
everything, sending a new drawing every 1-3 s), and compare the examples per second the run
reports: same server, same run, the windows interleaved so that drift (another process on the
machine) hits both sides. Goal: <= 10% slower.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import running_server  # noqa: E402


def examples_seen(url: str) -> tuple[float, int]:
    return time.monotonic(), httpx.get(f"{url}/api/runs/r1").json()["progress"]["examples_seen"]


async def one_client(url: str, k: int, stop: asyncio.Event, counts: list[int]) -> None:
    rng = np.random.default_rng(k)
    async with connect(url.replace("http://", "ws://") + "/api/runs/r1/live", max_size=2**22) as ws:
        next_draw = time.monotonic() + rng.uniform(0, 2)
        while not stop.is_set():
            if time.monotonic() >= next_draw:
                pixels = np.zeros((28, 28))
                r, c = rng.integers(4, 20, 2)
                pixels[r:r + 8, c:c + 3] = 1.0
                await ws.send(json.dumps({"type": "draw", "pixels": pixels.ravel().round(2).tolist()}))
                next_draw = time.monotonic() + rng.uniform(1, 3)
            try:
                await asyncio.wait_for(ws.recv(), 0.5)
                counts[k] += 1
            except TimeoutError:
                pass


async def window_with_clients(url: str, n: int, seconds: float) -> tuple[float, int]:
    """Return (examples per second, messages received) while n clients are connected."""
    stop, counts = asyncio.Event(), [0] * n
    tasks = [asyncio.create_task(one_client(url, k, stop, counts)) for k in range(n)]
    await asyncio.sleep(1.5)  # everyone connected and streaming
    t0, e0 = await asyncio.to_thread(examples_seen, url)
    m0 = sum(counts)
    await asyncio.sleep(seconds)
    t1, e1 = await asyncio.to_thread(examples_seen, url)
    received = sum(counts) - m0
    stop.set()
    await asyncio.gather(*tasks)
    return (e1 - e0) / (t1 - t0), received


def window_alone(url: str, seconds: float) -> float:
    time.sleep(1.0)  # let the clients of the previous window go
    t0, e0 = examples_seen(url)
    time.sleep(seconds)
    t1, e1 = examples_seen(url)
    return (e1 - e0) / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    alone, crowded = [], []
    with running_server("--no-train") as url:
        # The video's network, trained long enough to outlast the bench (the default run ends in a minute).
        httpx.post(f"{url}/api/runs", json={"epochs": 500}).raise_for_status()
        # The clients stand in for students' browsers on other machines: on this shared 2-core box
        # they must not take the CPU from the server, or we would measure them, not the server.
        os.nice(15)
        while httpx.get(f"{url}/api/runs/r1").json()["progress"]["step"] == 0:
            time.sleep(0.1)
        time.sleep(2)  # past the first evaluations
        for _ in range(args.rounds):
            alone.append(window_alone(url, args.window))
            speed, received = asyncio.run(window_with_clients(url, args.clients, args.window))
            crowded.append(speed)
            print(f"  0 clients: {alone[-1]:8.0f} ex/s   {args.clients} clients: {speed:8.0f} ex/s   "
                  f"({received / args.window / args.clients:.1f} messages/s per client)")
        alone.append(window_alone(url, args.window))
        print(f"  0 clients: {alone[-1]:8.0f} ex/s")
    ratio = np.mean(crowded) / np.mean(alone)
    print(f"training speed with {args.clients} live clients: {ratio:.1%} of the speed with none "
          f"({(1 - ratio):+.1%} slower; goal <= 10%)")


if __name__ == "__main__":
    main()
