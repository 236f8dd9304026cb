"""Server-Sent Events for one run: the newest metrics point at most every 0.2 s, status changes,
and the end of the stream when the run ends (so `curl -N` returns)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import Request

from .runs import ACTIVE, Run, clean_metrics

INTERVAL = 0.2


def sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, allow_nan=False)}\n\n"


async def metrics_events(request: Request, run: Run) -> AsyncIterator[str]:
    """Yield SSE frames until the run ends. (If the client goes away first, Starlette cancels us.)"""
    status = run.status
    yield sse("status", run.to_dict())
    seen = None
    while True:
        # Status first: the final report is published before the status changes, so once the status
        # says the run ended, `latest` is already the final report.
        now_status, latest = run.status, run.latest
        sent_metrics = False
        if latest is not None and latest is not seen:
            seen, sent_metrics = latest, True
            yield sse("metrics", clean_metrics(latest))
        # The stream always ends on a status frame, even when the run had already ended before we
        # connected (then the final metrics follow the first status and need one after them).
        if now_status != status or (sent_metrics and now_status not in ACTIVE):
            status = now_status
            yield sse("status", run.to_dict())
        if now_status not in ACTIVE:
            return
        await asyncio.sleep(INTERVAL)
