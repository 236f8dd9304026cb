"""The teacher token: who may change runs and models.

Reading (the page, streams, predict, listings) is open to everyone on the network. Changing (starting,
pausing, resuming, stopping or deleting runs; saving or deleting models) needs `Authorization: Bearer
<token>` once a token is in force: always when the server listens beyond loopback, and on loopback only
if a token was configured explicitly (so the quick start on one laptop needs nothing).
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

TOKEN_ENV = "DIGIT_STUDIO_TOKEN"

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
