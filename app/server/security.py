"""What every response carries, and what is refused before any handler runs: security headers, body
limits (bodylimit.py), and cross-site requests (origins.py). The teacher token is in auth.py. A write
the state folder refused (storage.py) becomes a JSON 507 or 503 here, whichever route it came from.

This module also re-exports the names other modules have long imported from here.
"""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import TEACHER_ERRORS, TOKEN_ENV, bearer, is_loopback, require_teacher, resolve_token, teacher
from .bodylimit import BODY_LIMIT, IMAGE_BODY_LIMIT, IMAGE_PATHS, BodyTooLargeError, limit_for, too_large
from .jsonerrors import validation_error
from .openapi import document_error_shapes
from .origins import refusal
from .storage import StorageError

__all__ = ["BODY_LIMIT", "IMAGE_BODY_LIMIT", "IMAGE_PATHS", "TEACHER_ERRORS", "TOKEN_ENV",
           "BodyTooLargeError", "SecurityMiddleware", "bearer", "document_error_shapes", "is_loopback",
           "require_teacher", "resolve_token", "teacher", "too_large", "validation_error"]

# No inline scripts anywhere: every script is a file under /static. Styles may be set inline because the
# page sizes bars and heatmaps through style attributes; that cannot run code.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", PAGE_CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin")]


class SecurityMiddleware:
    """Pure ASGI (streams and WebSockets pass through untouched): refuse cross-site changes and, on a
    loopback server, foreign Host names; add the security headers to every HTTP response; refuse
    bodies over the path's limit (413) before reading them whole. Each answer also says how long the
    app took to start it (`Server-Timing: app;dur=MS`), so a client under load can tell the server's
    own time from the time its request waited (bench/bench_load.py)."""

    def __init__(self, app: ASGIApp, image_limit: int = IMAGE_BODY_LIMIT, docs_csp: str = "") -> None:
        self.app, self.image_limit, self.docs_csp = app, image_limit, docs_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state if "app" in scope else None
        refused = refusal(scope, getattr(state, "token", None),
                          tuple(getattr(getattr(state, "settings", None), "cors_origins", ())))
        if refused is not None and scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": refused[1][:120]})
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        headers = self.headers_for(scope["path"])
        if refused is not None:
            await self.answer(send, headers, *refused)
            return
        limit = limit_for(scope["path"], self.image_limit)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self.answer(send, headers, 413, too_large(limit))
            return
        started, seen, began = False, 0, time.perf_counter()

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:   # a chunked body that said nothing of its size
                raise BodyTooLargeError
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                took = f"app;dur={(time.perf_counter() - began) * 1000:.1f}".encode()
                message["headers"] = [*message.get("headers", []), *headers, (b"server-timing", took)]
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except BodyTooLargeError:
            if started:
                raise
            await self.answer(send, headers, 413, too_large(limit))
        except StorageError as exc:   # a full or read-only state folder, from any route (storage.py)
            if started:
                raise
            await self.answer(send, headers, exc.status, str(exc))

    def headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        if path == "/docs" and self.docs_csp:
            return [(b"content-security-policy", self.docs_csp.encode()), *HEADERS[1:]]
        return HEADERS

    @staticmethod
    async def answer(send: Send, headers: list[tuple[bytes, bytes]], status: int, detail: str) -> None:
        """Send a JSON error {"detail": ...} and close the connection (the body may be left unread)."""
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), *headers]})
        await send({"type": "http.response.body", "body": body})
