"""Load: predict under load while a run trains, and 200 live clients coming and going.

    python bench/bench_load.py [--duration 60] [--clients 200] [--predictors 4] [--rounds 3]
                               [--max-requests 200000] [--executor process|thread] [--pin]

A real `digit-studio serve --no-train` on 127.0.0.1 only (a free port), training the video's network
(1,000 epochs, the most allowed, so that it outlasts the rounds). First the run trains alone (the
baseline speed); then for --duration seconds, --predictors loops POST /api/predict as fast as answers
come, while --clients WebSocket clients connect to the run's live stream, draw a random stroke every
0.5-2 s, and leave after a random 2-20 s (a new one takes the place of each that leaves). Then everyone
leaves and the run trains alone again; this is repeated --rounds times. Reported for each round: predict
requests/s, p50/p99 latency, errors of every kind, live connections and messages, training speed
during/after, and the server's RSS (VmRSS from /proc) at its peak and once everyone left. Memory that
grows from one round's end to the next is a leak; what the first round adds is warm-up (models loaded,
allocator arenas). Bounded in time (--duration, --rounds) and count (--max-requests, --clients).

--executor chooses where the run trains (the server's default if not given). --pin (process executor,
two or more cores): the worker process on core 1, the server and this load generator on core 0
(`taskset -a`, every thread), so the training has a core of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import running_server  # noqa: E402

RUN = {"hidden": [16, 16], "epochs": 1000, "name": "load"}   # the most allowed: it must outlast the rounds


def server_pid(port: int) -> int:
    """Return the pid of the `serve --port PORT` process we started (found by its own command line)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                args = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in args and str(port).encode() in args:
                return int(proc.name)
    raise RuntimeError(f"no server process on port {port}")


def workers_of(pid: int) -> list[int]:
    """Return the server's worker processes (its children started by multiprocessing's spawn)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                args = (proc / "cmdline").read_bytes()
                status = (proc / "status").read_text()
            except OSError:
                continue
            ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
            if ppid == pid and b"spawn_main" in args:
                found.append(int(proc.name))
    return found


def pin(pid: int, cpu: int) -> None:
    """Put every thread of process `pid` on core `cpu`."""
    subprocess.run(["taskset", "-a", "-cp", str(cpu), str(pid)], check=True, stdout=subprocess.DEVNULL)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def stroke(rng: np.random.Generator) -> list[float]:
    """Return 784 pixels with one random bar of ink, like a quick stroke."""
    pixels = np.zeros((28, 28))
    r, c = rng.integers(4, 20, 2)
    pixels[r:r + 8, c:c + 3] = 1.0
    return pixels.ravel().round(2).tolist()


async def examples_per_second(client: httpx.AsyncClient, run_id: str, seconds: float) -> float:
    async def seen() -> tuple[float, int]:
        r = await client.get(f"/api/runs/{run_id}")
        return time.monotonic(), r.json()["progress"]["examples_seen"]
    t0, e0 = await seen()
    await asyncio.sleep(seconds)
    t1, e1 = await seen()
    return (e1 - e0) / (t1 - t0)


async def predictor(client: httpx.AsyncClient, k: int, until: float, stats: dict) -> None:
    rng = np.random.default_rng(1000 + k)
    while time.monotonic() < until and stats["requests"] < stats["max_requests"]:
        body = {"pixels": stroke(rng)}
        start = time.perf_counter()
        try:
            r = await client.post("/api/predict", json=body, timeout=10)
            error = None if r.status_code == 200 else str(r.status_code)
        except httpx.HTTPError as exc:
            error = str(exc)
        stats["latencies"].append(time.perf_counter() - start)
        stats["requests"] += 1
        if error is not None:
            stats["errors"].append(error[:80])


async def live_client(ws_url: str, k: int, until: float, stats: dict) -> None:
    """Connect, draw now and then, leave after a random while; come back as a new client until `until`."""
    rng = np.random.default_rng(k)
    while time.monotonic() < until:
        leave = min(until, time.monotonic() + rng.uniform(2, 20))
        try:
            async with connect(ws_url, max_size=2**22, open_timeout=10) as ws:
                stats["connections"] += 1
                next_draw = time.monotonic() + rng.uniform(0, 1)
                while time.monotonic() < leave:
                    if time.monotonic() >= next_draw:
                        await ws.send(json.dumps({"type": "draw", "pixels": stroke(rng)}))
                        next_draw = time.monotonic() + rng.uniform(0.5, 2)
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    except TimeoutError:
                        continue
                    stats["messages"] += 1
                    if message.get("type") == "error":
                        stats["errors"].append(message.get("message", "")[:80])
        except Exception as exc:   # any failure to connect or read counts as an error
            stats["errors"].append(f"{type(exc).__name__}: {exc}"[:80])
        await asyncio.sleep(rng.uniform(0, 1))   # a moment before the next student arrives


async def load_round(client: httpx.AsyncClient, url: str, run_id: str, pid: int,
                     args: argparse.Namespace) -> dict:
    """One round: predictors and live clients for --duration seconds, then everyone leaves."""
    until = time.monotonic() + args.duration
    predict: dict[str, Any] = {"latencies": [], "errors": [], "requests": 0,
                               "max_requests": args.max_requests}
    live: dict[str, Any] = {"connections": 0, "messages": 0, "errors": []}
    ws_url = url.replace("http://", "ws://") + f"/api/runs/{run_id}/live"
    start = time.monotonic()
    tasks = [asyncio.create_task(predictor(client, k, until, predict)) for k in range(args.predictors)]
    tasks += [asyncio.create_task(live_client(ws_url, k, until, live)) for k in range(args.clients)]
    await asyncio.sleep(min(5.0, args.duration / 4))
    during = await examples_per_second(client, run_id, max(1.0, args.duration - 10))
    rss_peak = rss_mb(pid)
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    await asyncio.sleep(5)    # every client gone; the server has dropped them
    after = await examples_per_second(client, run_id, args.baseline)
    lat = np.array(predict["latencies"]) * 1000
    return {
        "duration_s": round(elapsed, 1),
        "predict_requests": predict["requests"], "predict_per_s": round(predict["requests"] / elapsed, 1),
        "predict_p50_ms": round(float(np.percentile(lat, 50)), 1) if len(lat) else None,
        "predict_p99_ms": round(float(np.percentile(lat, 99)), 1) if len(lat) else None,
        "predict_errors": len(predict["errors"]), "predict_error_kinds": sorted(set(predict["errors"]))[:5],
        "live_connections": live["connections"], "live_messages": live["messages"],
        "live_errors": len(live["errors"]), "live_error_kinds": sorted(set(live["errors"]))[:5],
        "train_examples_per_s": {"during": round(during), "after": round(after)},
        "server_rss_mb": {"during": round(rss_peak, 1), "after": round(rss_mb(pid), 1)},
    }


async def measure(url: str, port: int, args: argparse.Namespace) -> dict:
    pid = server_pid(port)
    if args.pin:
        pin(pid, 0)
        pin(os.getpid(), 0)
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        run_id = (await client.post("/api/runs", json=RUN)).json()["id"]
        await asyncio.sleep(3)    # MNIST loaded, training at full speed
        workers = workers_of(pid)
        if args.pin:
            if len(workers) != 1:
                raise RuntimeError(f"--pin needs the process executor's one worker; found {workers}")
            pin(workers[0], 1)
        before = await examples_per_second(client, run_id, args.baseline)
        rss_before = rss_mb(pid)
        rounds = [await load_round(client, url, run_id, pid, args) for _ in range(args.rounds)]
        await client.post(f"/api/runs/{run_id}/stop")
    # The first round also pays for one-time costs (models loaded for predict, allocator arenas for
    # the threads): a leak shows as RSS still climbing from one round's end to the next.
    afters = [r["server_rss_mb"]["after"] for r in rounds]
    return {"executor": args.executor or "server default", "pinned": args.pin,
            "worker_rss_mb": [round(rss_mb(w), 1) for w in workers if Path(f"/proc/{w}").exists()],
            "clients": args.clients, "predictors": args.predictors, "rounds": rounds,
            "train_examples_per_s_before": round(before), "server_rss_mb_before": round(rss_before, 1),
            "server_rss_mb_after_each_round": afters,
            "rss_growth_after_first_round_mb": round(afters[-1] - afters[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=200, help="live clients at once (default 200)")
    parser.add_argument("--predictors", type=int, default=4, help="concurrent predict loops (default 4)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop predicting after this many")
    parser.add_argument("--rounds", type=int, default=3, help="load rounds, to tell a leak from warm-up")
    parser.add_argument("--baseline", type=float, default=8.0, help="seconds to time training alone")
    parser.add_argument("--executor", choices=["process", "thread"], default=None,
                        help="where the run trains (default: the server's default)")
    parser.add_argument("--pin", action="store_true",
                        help="worker on core 1, server and load on core 0 (process executor)")
    args = parser.parse_args()
    if args.pin and (args.executor == "thread" or (os.cpu_count() or 1) < 2):
        parser.error("--pin needs the process executor and at least two cores")
    if not (1 <= args.duration <= 600 and 0 <= args.clients <= 500 and 0 <= args.predictors <= 32
            and 1 <= args.rounds <= 10):
        parser.error("bounded: --duration 1..600, --clients 0..500, --predictors 0..32, --rounds 1..10")
    extra = ["--executor", args.executor] if args.executor else []
    with running_server("--no-train", *extra) as url:
        port = int(url.rsplit(":", 1)[1])
        report = asyncio.run(measure(url, port, args))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
