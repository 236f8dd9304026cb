"""Wait for the event itself, never for a fixed time: poll a condition until it holds, with a deadline
generous enough for a shared, busy machine (the deadline only bounds a broken test; a passing one
returns as soon as the event happens).

    run = wait_until(lambda: client.get("/api/runs/r1").json(), lambda r: r["status"] == "finished")
    wait_until(lambda: trainer.step > 100)
    hello = await next_message(ws, lambda m: m["type"] == "studio")     # on a live WebSocket
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

DEADLINE = 60.0   # seconds; what a run of the tests may take on a busy 2-core machine, with room
POLL = 0.05       # seconds between two looks (each may be an HTTP request to an in-process server)


def _holds(value: Any) -> bool:
    return bool(value)


def wait_until(fetch: Callable[[], T], predicate: Callable[[T], Any] = _holds, timeout: float = DEADLINE,
               what: str | None = None) -> T:
    """Call `fetch()` until `predicate` holds for what it returned (by default: until it is truthy);
    return that value. Raises AssertionError naming `what` (or the fetch) and the last value seen if
    the deadline passes first."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            name = what or getattr(fetch, "__name__", "the condition")
            last = repr(value)[:2000]
            raise AssertionError(f"still waiting after {timeout:.0f} s for {name}; last seen: {last}")
        time.sleep(POLL)


def run_reaches(get_run: Callable[[str], dict], run_id: str, predicate: Callable[[dict], Any],
                timeout: float = DEADLINE) -> dict:
    """Return run `run_id` (as `get_run(run_id)` reads it from the API) once `predicate` holds for it."""
    return wait_until(lambda: get_run(run_id), predicate, timeout, what=f"run {run_id}")


async def next_message(ws: Any, wanted: Callable[[dict], Any], timeout: float = DEADLINE,
                       what: str | None = None) -> dict:
    """Return the first JSON message from the WebSocket `ws` for which `wanted` holds, passing over the
    others. Raises AssertionError naming `what` if the deadline passes first."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), max(left, 0.1)))
        except TimeoutError:
            break
        if wanted(message):
            return message
    raise AssertionError(f"still waiting after {timeout:.0f} s for {what or 'a message'} on the WebSocket")
