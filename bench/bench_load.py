"""Load: predict under load while a run trains, and 200 live clients coming and going.

    python bench/bench_load.py [--duration 60] [--clients 200] [--predictors 4] [--rounds 3]
                               [--max-requests 200000] [--executor process|thread] [--pin]
                               [--live-procs 2] [--baseline 8] [--windows 4] [--predict-rate N]

A real `digit-studio serve --no-train` on 127.0.0.1 only (a free port), training the video's network
(1,000 epochs, the most allowed, so that it outlasts the rounds). First the run trains alone (the
reference speed, in --windows windows to show its noise); then for --duration seconds, --predictors
loops POST /api/predict as fast as answers come, while --clients WebSocket clients connect to the run's
live stream, draw a random stroke every 0.5-2 s, read every message, and leave after a random 2-20 s (a
new one takes the place of each that leaves), and a monitor asks GET /api/health every 0.1 s. Then
everyone leaves and the run trains alone again; this is repeated --rounds times.

The load generator is several processes (bench/load_clients.py): the predict loops in one, the live
clients split over --live-procs others, the health monitor here, as a classroom is many devices and not
one event loop. Reported for each round: predict requests/s and p50/p99 latency, as the client saw it
and as the server timed itself (its Server-Timing header), health p50/p99 likewise, each generator
process's own event-loop lag, errors of every kind, live connections, messages and MB/s, training
speed during the load against alone (before the load, and right after this round), also per CPU
second the worker used (what it makes of the CPU it gets, whoever else is on its core), the cores each
process used during the load (server, worker, generator, from /proc/PID/stat), and the server's RSS
(VmRSS) at its peak and once everyone left. Memory that grows from one round's end to the next is a
leak; what the first round adds is warm-up. Bounded in time (--duration, --rounds) and count
(--max-requests, --clients).

--predict-rate N: the loops ask N predicts a second in all and no more (each on a schedule), so a
faster server does the same work with less CPU instead of more work with the same: what its speed
leaves to the training. Without it (the issue's load) the loops ask again as soon as they are answered.

--executor chooses where the run trains (the server's default if not given). --pin (process executor,
two or more cores): the worker process on core 1; the server and every load generator process on core 0
(`taskset -a`, every thread), so the training has a core of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load_clients import health_probe, live_clients, predict_loops  # noqa: E402
from tests.support.procs import cpu_ticks, rss_mb, server_pid, workers_of  # noqa: E402
from tests.support.server import running_server  # noqa: E402

RUN = {"hidden": [16, 16], "epochs": 1000, "name": "load"}   # the most allowed: it must outlast the rounds
START_DELAY = 3.0   # seconds for the generator processes to start (imports) before a round begins


def pin(pid: int, cpu: int) -> None:
    """Put every thread of process `pid` on core `cpu`."""
    subprocess.run(["taskset", "-a", "-cp", str(cpu), str(pid)], check=True, stdout=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system, every thread) process `pid` has used so far."""
    return cpu_ticks(pid) / os.sysconf("SC_CLK_TCK")


async def examples_per_second(client: httpx.AsyncClient, run_id: str, seconds: float,
                              workers: list[int]) -> tuple[float, float | None]:
    """Return the run's examples/s over `seconds`, and per CPU second its worker used (None without a
    worker process): what the worker does with the CPU it gets, whoever else shares its core."""
    async def seen() -> tuple[float, int, float]:
        r = await client.get(f"/api/runs/{run_id}")
        return time.monotonic(), r.json()["progress"]["examples_seen"], sum(map(cpu_seconds, workers))
    t0, e0, c0 = await seen()
    await asyncio.sleep(seconds)
    t1, e1, c1 = await seen()
    return (e1 - e0) / (t1 - t0), (e1 - e0) / (c1 - c0) if workers and c1 > c0 else None


async def alone(client: httpx.AsyncClient, run_id: str, seconds: float, windows: int,
                workers: list[int]) -> dict[str, list]:
    """Return the training speed alone in `windows` back-to-back windows (how noisy the reference is),
    per second and per CPU second of the worker."""
    speeds = [await examples_per_second(client, run_id, seconds / windows, workers) for _ in range(windows)]
    return {"per_s": [round(s) for s, _ in speeds],
            "per_worker_cpu_s": [round(c) if c is not None else None for _, c in speeds]}


def generators(url: str, ws_url: str, start_at: float, until: float, args: argparse.Namespace,
               out: Any) -> list[Any]:
    """Return the load generator's processes (started): the health monitor, one for the predict
    loops, --live-procs sharing the live clients; all on core 0 under --pin."""
    ctx = mp.get_context("spawn")
    cpu = 0 if args.pin else None
    procs = [ctx.Process(target=health_probe, name="health", args=(url, start_at, until, cpu, out))]
    if args.predictors:
        procs.append(ctx.Process(target=predict_loops, name="predict", args=(
            url, args.predictors, start_at, until, args.max_requests, cpu, out, args.predict_rate)))
    shares = np.array_split(np.arange(args.clients), args.live_procs) if args.clients else []
    for share in shares:
        if len(share):
            procs.append(ctx.Process(target=live_clients, name="live", args=(
                ws_url, int(share[0]), len(share), start_at, until, cpu, out)))
    for proc in procs:
        proc.start()
    return procs


async def load_round(client: httpx.AsyncClient, url: str, run_id: str, pids: dict[str, list[int]],
                     args: argparse.Namespace) -> dict:
    """One round: predictors and live clients for --duration seconds, then everyone leaves."""
    ws_url = url.replace("http://", "ws://") + f"/api/runs/{run_id}/live"
    ctx_out = mp.get_context("spawn").Queue()
    start_at = time.time() + START_DELAY
    until = start_at + args.duration
    procs = generators(url, ws_url, start_at, until, args, ctx_out)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    await asyncio.sleep(min(5.0, args.duration / 4))
    every = {**pids, "predict_loops": [p.pid for p in procs if p.name == "predict"],
             "live_clients": [p.pid for p in procs if p.name == "live"],
             "health_monitor": [p.pid for p in procs if p.name == "health"], "coordinator": [os.getpid()]}
    cpu0, t0 = {k: [cpu_seconds(p) for p in v] for k, v in every.items()}, time.monotonic()
    seconds = max(1.0, args.duration - 10)
    during, during_cpu = await examples_per_second(client, run_id, seconds, pids["worker"])
    cpu1, t1 = {k: [cpu_seconds(p) for p in v] for k, v in every.items()}, time.monotonic()
    rss_peak = rss_mb(pids["server"][0])
    results = [await asyncio.to_thread(ctx_out.get, True, args.duration + 120) for _ in procs]
    for proc in procs:
        proc.join(30)
    elapsed = time.time() - start_at
    await asyncio.sleep(5)    # every client gone; the server has dropped them
    after = await alone(client, run_id, args.baseline, args.windows, pids["worker"])
    predict = next((r for kind, r in results if kind == "predict"), {"requests": 0})
    health = next(r for kind, r in results if kind == "health")
    lives = [r for kind, r in results if kind == "live"]
    messages = sum(r["messages"] for r in lives)
    return {
        "duration_s": round(elapsed, 1),
        "predict": {**predict, "per_s": round(predict["requests"] / elapsed, 1)},
        "health": health,
        "live": {"connections": sum(r["connections"] for r in lives), "messages": messages,
                 "messages_per_s": round(messages / elapsed), "mb_per_s": round(
                     sum(r["bytes"] for r in lives) / elapsed / 1e6, 2),
                 "errors": sum(r["errors"] for r in lives),
                 "error_kinds": sorted({k for r in lives for k in r["error_kinds"]})[:5],
                 "loop_lag_p99_ms": [r["loop_lag"]["p99_ms"] for r in lives]},
        "cores_used": {k: round(sum(b - a for a, b in zip(cpu0[k], cpu1[k], strict=True)) / (t1 - t0), 2)
                       for k in every},
        "train_examples_per_s": {"during": round(during), "alone_after": after["per_s"]},
        "train_examples_per_worker_cpu_s": {"during": round(during_cpu) if during_cpu else None,
                                            "alone_after": after["per_worker_cpu_s"]},
        "server_rss_mb": {"during": round(rss_peak, 1), "after": round(rss_mb(pids["server"][0]), 1)},
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
        before = await alone(client, run_id, args.baseline, args.windows, workers)
        rss_before = rss_mb(pid)
        rounds = []
        for _ in range(args.rounds):
            rounds.append(await load_round(client, url, run_id, {"server": [pid], "worker": workers}, args))
        await client.post(f"/api/runs/{run_id}/stop")
    # The first round also pays for one-time costs (models loaded for predict, allocator arenas for
    # the threads): a leak shows as RSS still climbing from one round's end to the next.
    afters = [r["server_rss_mb"]["after"] for r in rounds]
    reference = float(np.median(before["per_s"]))
    for r in rounds:   # during / alone: against the run's speed before any load, and right after this round
        speed, per_cpu = r["train_examples_per_s"], r["train_examples_per_worker_cpu_s"]
        r["train_share"] = {"of_before": round(speed["during"] / reference, 3),
                            "of_after": round(speed["during"] / float(np.median(speed["alone_after"])), 3)}
        if per_cpu["during"] and None not in per_cpu["alone_after"]:   # the worker's own efficiency
            r["train_share"]["per_worker_cpu_s_of_after"] = round(
                per_cpu["during"] / float(np.median(per_cpu["alone_after"])), 3)
    return {"executor": args.executor or "server default", "pinned": args.pin, "live_procs": args.live_procs,
            "predict_rate": args.predict_rate,
            "load_average_at_start": args.load_average,
            "worker_rss_mb": [round(rss_mb(w), 1) for w in workers if Path(f"/proc/{w}").exists()],
            "clients": args.clients, "predictors": args.predictors, "rounds": rounds,
            "train_examples_per_s_before": before["per_s"],
            "train_examples_per_worker_cpu_s_before": before["per_worker_cpu_s"],
            "server_rss_mb_before": round(rss_before, 1),
            "server_rss_mb_after_each_round": afters,
            "rss_growth_after_first_round_mb": round(afters[-1] - afters[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=200, help="live clients at once (default 200)")
    parser.add_argument("--predictors", type=int, default=4, help="concurrent predict loops (default 4)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop predicting after this many")
    parser.add_argument("--predict-rate", type=float, default=None,
                        help="predicts per second in all (default: as fast as answers come)")
    parser.add_argument("--rounds", type=int, default=3, help="load rounds, to tell a leak from warm-up")
    parser.add_argument("--baseline", type=float, default=8.0, help="seconds to time training alone")
    parser.add_argument("--windows", type=int, default=4, help="windows the --baseline seconds are cut in")
    parser.add_argument("--live-procs", type=int, default=2, help="processes sharing the live clients")
    parser.add_argument("--executor", choices=["process", "thread"], default=None,
                        help="where the run trains (default: the server's default)")
    parser.add_argument("--pin", action="store_true",
                        help="worker on core 1, server and load on core 0 (process executor)")
    args = parser.parse_args()
    if args.pin and (args.executor == "thread" or (os.cpu_count() or 1) < 2):
        parser.error("--pin needs the process executor and at least two cores")
    if not (1 <= args.duration <= 600 and 0 <= args.clients <= 500 and 0 <= args.predictors <= 32
            and 1 <= args.rounds <= 10 and 1 <= args.live_procs <= 8 and 1 <= args.windows <= 10
            and (args.predict_rate is None or 0 < args.predict_rate <= 5000)):
        parser.error("bounded: --duration 1..600, --clients 0..500, --predictors 0..32, --rounds 1..10, "
                     "--live-procs 1..8, --windows 1..10, --predict-rate 0..5000")
    args.load_average = [round(x, 2) for x in os.getloadavg()]
    extra = ["--executor", args.executor] if args.executor else []
    with running_server("--no-train", *extra) as url:
        port = int(url.rsplit(":", 1)[1])
        report = asyncio.run(measure(url, port, args))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
