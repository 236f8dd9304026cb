"""The load generator of bench_load.py, in parts that each run in a process of their own.

A classroom is 200 separate devices; one asyncio process playing all of them measures its own event
loop as much as the server. So predict loops run in one process and the live clients are split over
others (all on core 0 under --pin, like the server). Each part measures its own event-loop lag (how
late a 10 ms sleep wakes up): what the generator adds to the latencies it reports.

Each part is a plain function for multiprocessing (spawn): it waits for `start_at` (time.time()),
runs until `until`, and puts one dict of results on `out`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from multiprocessing.queues import Queue
from typing import Any

import numpy as np

LAG_TICK = 0.01
ERROR_PREFIX = b'{"type":"error"'   # the server's live errors: dumps({"type": "error", ...}), compact


def stroke(rng: np.random.Generator) -> list[float]:
    """Return 784 pixels with one random bar of ink, like a quick stroke."""
    pixels = np.zeros((28, 28))
    r, c = rng.integers(4, 20, 2)
    pixels[r:r + 8, c:c + 3] = 1.0
    return pixels.ravel().round(2).tolist()


def pin_self(cpu: int | None) -> None:
    """Put this process (and the threads it starts later) on core `cpu`."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


async def wait_for_start(start_at: float) -> None:
    await asyncio.sleep(max(0.0, start_at - time.time()))


async def lag_probe(until: float, lags: list[float]) -> None:
    """Record how late each 10 ms sleep of this event loop wakes up."""
    while time.time() < until:
        start = time.perf_counter()
        await asyncio.sleep(LAG_TICK)
        lags.append(time.perf_counter() - start - LAG_TICK)


def percentiles(seconds: list[float]) -> dict[str, float | None]:
    """Return p50 and p99 in ms (None for no samples)."""
    if not seconds:
        return {"p50_ms": None, "p99_ms": None}
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1)}


def server_ms(headers: Any) -> float | None:
    """Return the server's own time for a request from its `Server-Timing: app;dur=MS` header."""
    value = headers.get("server-timing", "")
    if value.startswith("app;dur="):
        return float(value[len("app;dur="):]) / 1000
    return None


class Http:
    """A bare HTTP/1.1 keep-alive connection: what a device's browser spends on a request is its own
    CPU, not the classroom server's, so the generator spends as little as it can (httpx costs ~2 ms of
    CPU a request, as much as the server's work)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        """Return (status, lower-case headers, body); reconnects if the server closed the connection."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection") == "close":
            self.writer.close()
        return int(lines[0].split()[1]), headers, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def predict_loops(url: str, loops: int, start_at: float, until: float, max_requests: int,
                  cpu: int | None, out: Queue, rate: float | None = None) -> None:
    """POST /api/predict from `loops` concurrent loops (a connection each), each as fast as answers
    come (or, with `rate`, each asking rate / loops times a second, never faster: a fixed amount of
    work, whatever the server's speed), each drawing its strokes from 64 made beforehand."""
    pin_self(cpu)
    host, port = url.removeprefix("http://").split(":")

    async def main() -> dict[str, Any]:
        stats: dict[str, Any] = {"latencies": [], "server": [], "errors": [], "requests": 0}
        lags: list[float] = []

        async def loop(k: int) -> None:
            rng = np.random.default_rng(1000 + k)
            bodies = [json.dumps({"pixels": stroke(rng)}).encode() for _ in range(64)]
            http = Http(host, int(port))
            next_at = time.perf_counter()
            while time.time() < until and stats["requests"] < max_requests:
                if rate:   # on schedule; a late request does not make the next ones come in a burst
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at = max(next_at + loops / rate, time.perf_counter())
                start = time.perf_counter()
                try:
                    status, headers, _ = await asyncio.wait_for(
                        http.request("POST", "/api/predict", bodies[stats["requests"] % 64]), 10)
                    error = None if status == 200 else str(status)
                    own = server_ms(headers)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    error, own = f"{type(exc).__name__}: {exc}", None
                    http.close()
                    http = Http(host, int(port))
                stats["latencies"].append(time.perf_counter() - start)
                if own is not None:
                    stats["server"].append(own)
                stats["requests"] += 1
                if error is not None:
                    stats["errors"].append(error[:80])
            http.close()

        await wait_for_start(start_at)
        probe = asyncio.create_task(lag_probe(until, lags))
        await asyncio.gather(*(loop(k) for k in range(loops)))
        await probe
        return {"requests": stats["requests"], **percentiles(stats["latencies"]),
                "server": percentiles(stats["server"]), "errors": len(stats["errors"]),
                "error_kinds": sorted(set(stats["errors"]))[:5], "loop_lag": percentiles(lags)}

    out.put(("predict", asyncio.run(main())))


def health_probe(url: str, start_at: float, until: float, cpu: int | None, out: Queue,
                 interval: float = 0.1) -> None:
    """GET /api/health every `interval` s, as a monitor would."""
    pin_self(cpu)
    host, port = url.removeprefix("http://").split(":")

    async def main() -> dict[str, Any]:
        times: list[float] = []
        own: list[float] = []
        lags: list[float] = []
        errors = 0
        http = Http(host, int(port))
        await wait_for_start(start_at)
        probe = asyncio.create_task(lag_probe(until, lags))
        while time.time() < until:
            start = time.perf_counter()
            try:
                status, headers, _ = await asyncio.wait_for(http.request("GET", "/api/health"), 10)
                errors += status != 200
                if (ms := server_ms(headers)) is not None:
                    own.append(ms)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                errors += 1
                http.close()
                http = Http(host, int(port))
            times.append(time.perf_counter() - start)
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - start)))
        http.close()
        await probe
        return {"requests": len(times), **percentiles(times), "server": percentiles(own), "errors": errors,
                "loop_lag": percentiles(lags)}

    out.put(("health", asyncio.run(main())))


def live_clients(ws_url: str, first: int, count: int, start_at: float, until: float, cpu: int | None,
                 out: Queue) -> None:
    """Clients `first` .. `first + count - 1` of the class: each connects, draws a stroke every
    0.5-2 s, reads every message the server sends, and leaves after a random 2-20 s; a new one takes
    its place until `until`. A message is counted without parsing it, but one that is an error is read."""
    pin_self(cpu)
    from websockets.asyncio.client import connect

    stats: dict[str, Any] = {"connections": 0, "messages": 0, "bytes": 0, "errors": []}

    async def read_all(ws: Any) -> None:
        while True:
            data = await ws.recv(decode=False)   # bytes: no UTF-8 decoding, no JSON parsing
            stats["messages"] += 1
            stats["bytes"] += len(data)
            if data.startswith(ERROR_PREFIX):
                stats["errors"].append(json.loads(data).get("message", "")[:80])

    async def student(k: int) -> None:
        rng = np.random.default_rng(k)
        while time.time() < until:
            leave = min(until, time.time() + rng.uniform(2, 20))
            try:
                async with connect(ws_url, max_size=2**22, open_timeout=10, compression=None) as ws:
                    stats["connections"] += 1
                    reader = asyncio.create_task(read_all(ws))
                    await asyncio.sleep(rng.uniform(0, 1))
                    while time.time() < leave and not reader.done():
                        await ws.send(json.dumps({"type": "draw", "pixels": stroke(rng)}))
                        await asyncio.sleep(min(rng.uniform(0.5, 2), max(0.0, leave - time.time())))
                    if reader.done():
                        reader.result()   # the connection ended early: raise why
                    reader.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as exc:   # any failure to connect or read counts as an error
                stats["errors"].append(f"{type(exc).__name__}: {exc}"[:80])
            await asyncio.sleep(rng.uniform(0, 1))   # a moment before the next student arrives

    async def main() -> dict[str, Any]:
        lags: list[float] = []
        await wait_for_start(start_at)
        probe = asyncio.create_task(lag_probe(until, lags))
        await asyncio.gather(*(student(k) for k in range(first, first + count)))
        await probe
        return {"connections": stats["connections"], "messages": stats["messages"], "bytes": stats["bytes"],
                "errors": len(stats["errors"]), "error_kinds": sorted(set(stats["errors"]))[:5],
                "loop_lag": percentiles(lags)}

    out.put(("live", asyncio.run(main())))
