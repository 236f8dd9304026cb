"""Who may do what, and what every response carries: the teacher token, security headers, body limits.

Reading (the page, streams, predict, listings) is open to everyone on the network. Changing (starting,
pausing, resuming, stopping or deleting runs; saving or deleting models) needs `Authorization: Bearer
<token>` once a token is in force: always when the server listens beyond loopback, and on loopback only
if a token was configured explicitly (so the quick start on one laptop needs nothing).
"""

from __future__ import annotations

import ipaddress
import json
import math
import secrets
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_ENV = "DIGIT_STUDIO_TOKEN"
BODY_LIMIT = 64 * 1024                 # JSON for runs and saves is a few hundred bytes
IMAGE_PATHS = ("/api/predict", "/api/lessons")   # these take a drawing or a 5 MB image as base64

# No inline scripts anywhere: every script is a file under /static. Styles may be set inline because the
# page sizes bars and heatmaps through style attributes; that cannot run code.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", PAGE_CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin")]

# Documented on every route that needs the token.
TEACHER_ERRORS: dict[int | str, dict[str, str]] = {401: {"description": "no teacher token sent"},
                                                   403: {"description": "wrong teacher token"}}
bearer = HTTPBearer(auto_error=False, description="the teacher token (printed by `digit-studio serve`)")


def is_loopback(host: str) -> bool:
    """Return True if `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False   # a hostname or 0.0.0.0: reachable from the network


def resolve_token(host: str, configured: str | None) -> tuple[str | None, bool]:
    """Return (token, generated): the configured token; else a new random one if `host` is not
    loopback; else None (changing actions stay open on a loopback-only server)."""
    if configured:
        return configured, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(18), True


def require_teacher(request: Request, credentials: HTTPAuthorizationCredentials | None) -> None:
    """A dependency for changing actions: pass if no token is in force or the bearer token matches;
    else 401 (no token sent) or 403 (a wrong one), with words a student or teacher can act on."""
    expected = getattr(request.app.state, "token", None)
    if expected is None:
        return
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "Only the teacher can start, pause, stop, save or delete runs on this "
                                 "server: type the teacher token into the Runs panel (API clients: send "
                                 "'Authorization: Bearer <token>'). Watching, drawing and predicting need "
                                 "no token.",
                            headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(403, "that teacher token is wrong; ask the teacher, or check the token "
                                 "`digit-studio serve` printed at start (or $DIGIT_STUDIO_TOKEN)")


def teacher(request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
    """FastAPI dependency: `dependencies=[Depends(teacher)]` on every changing route (it also puts the
    bearer scheme into the OpenAPI schema, so /docs offers an Authorize button)."""
    require_teacher(request, credentials)


class BodyTooLargeError(Exception):
    pass


class SecurityMiddleware:
    """Pure ASGI (streams and WebSockets pass through untouched): add the security headers to every
    HTTP response and refuse bodies over the path's limit (413) before reading them whole."""

    def __init__(self, app: ASGIApp, image_limit: int, docs_csp: str) -> None:
        self.app, self.image_limit, self.docs_csp = app, image_limit, docs_csp

    def limit_for(self, path: str) -> int:
        return self.image_limit if path.startswith(IMAGE_PATHS) else BODY_LIMIT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, headers = self.limit_for(scope["path"]), self.headers_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self.refuse(send, headers, limit)
            return
        started, seen = False, 0

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
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except BodyTooLargeError:
            if started:
                raise
            await self.refuse(send, headers, limit)

    def headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        if path == "/docs":
            return [(b"content-security-policy", self.docs_csp.encode()), *HEADERS[1:]]
        return HEADERS

    @staticmethod
    async def refuse(send: Send, headers: list[tuple[bytes, bytes]], limit: int) -> None:
        body = json.dumps({"detail": too_large(limit)}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), *headers]})
        await send({"type": "http.response.body", "body": body})


def too_large(limit: int) -> str:
    """Return the 413 message for a body over `limit` bytes."""
    if limit >= 2**20:
        return (f"the request is over {limit / 2**20:.1f} MB; images may be at most 5 MB "
                "(send a smaller file, or the 28x28 pixels)")
    return f"the request is over {limit // 1024} KB; run and model requests are small JSON objects"



def _finite(value: object) -> object:
    """Return `value` with NaN and infinities spelled as strings (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 (`detail` lists each field's `loc` and `msg`), except that an input of NaN or
    infinity is echoed as a string: FastAPI's default handler fails to encode it and answers 500."""
    return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(exc.errors()))})


def document_error_shapes(app: FastAPI) -> None:
    """Make the OpenAPI schema say what 422s really hold: FastAPI's list of field errors, or (for
    checks a schema cannot express, such as `model` and `run` together) one sentence."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if error is not None:
                detail = error["properties"]["detail"]
                error["properties"]["detail"] = {"title": "Detail", "anyOf": [
                    {k: v for k, v in detail.items() if k != "title"}, {"type": "string"}]}
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
