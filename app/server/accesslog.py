"""The server's access log: a line per HTTP request, as uvicorn writes one, but by default without the
successful predicts and health checks. A class drawing sends those by the hundred a second: a line
each scrolls everything that matters off the teacher's console (runs starting, warnings, errors), and
writing them costs the server time it owes the class (docs/performance.md, 2026-11-30). Their errors
are still logged; `digit-studio serve --access-log all` logs every request.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("app.server.access")
MODES = ("quiet", "all", "off")
FREQUENT = frozenset({("POST", "/api/predict"), ("GET", "/api/health")})


def line(scope: Scope, status: int) -> str:
    """Return the request's line, in uvicorn's own access-log format."""
    client = scope.get("client")
    query = scope.get("query_string", b"")
    target = scope["path"] + (f"?{query.decode('latin-1')}" if query else "")
    who = f"{client[0]}:{client[1]}" if client else "-"
    return f'{who} - "{scope["method"]} {target} HTTP/{scope.get("http_version", "1.1")}" {status}'


class AccessLogMiddleware:
    """Pure ASGI: log each HTTP request's status once its answer starts (500 if none started when the
    app failed); WebSockets pass through (uvicorn logs their opening and closing itself)."""

    def __init__(self, app: ASGIApp, mode: str = "quiet") -> None:
        if mode not in MODES:
            raise ValueError(f"access log mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.app, self.quiet = app, mode == "quiet"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def logged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.record(scope, status)
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        except Exception:
            if not status:   # uvicorn answers 500 for it
                self.record(scope, 500)
            raise

    def record(self, scope: Scope, status: int) -> None:
        if self.quiet and status < 400 and (scope["method"], scope["path"]) in FREQUENT:
            return
        if log.isEnabledFor(logging.INFO):
            log.info("%s", line(scope, status))
