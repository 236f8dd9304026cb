"""Cross-site defences: which Host a loopback server answers to, and which Origin may change things.

A browser sends any page's form POST or fetch to any address, including 127.0.0.1; it only keeps the
page from reading the answer. So a page on another site could stop or start runs on the teacher's
laptop. Two checks close that:
- a changing request (POST, PUT, PATCH, DELETE) whose `Origin` is neither this server's own nor one of
  the configured CORS origins is refused (browsers always send `Origin` on such requests; API clients
  such as curl send none and are not affected);
- DNS rebinding: a hostile name made to resolve to 127.0.0.1 makes the page "same-origin" with us, so
  the Origin check passes. Its `Host` header still carries the hostile name, so a server listening on
  loopback without a token answers only to loopback names (localhost, 127.x.y.z, [::1]). A classroom
  server (another interface, behind the token) is reached by any name or address students use.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Scope

from .auth import is_loopback

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def host_name(host_header: str) -> str:
    """Return the name part of a Host header ('[::1]:8000' -> '::1'), lower case, without a final dot."""
    split = urlsplit(f"//{host_header}")
    try:
        name = split.hostname or ""
    except ValueError:
        return ""
    return name.rstrip(".")


def netloc(scheme: str, host_header: str) -> tuple[str, int] | None:
    """Return (name, port) with the scheme's default port filled in, or None if it cannot be read."""
    split = urlsplit(f"//{host_header}")
    try:
        port = split.port or DEFAULT_PORTS.get(scheme, 80)
    except ValueError:
        return None
    return (split.hostname or "").rstrip("."), port


def listens_on_loopback(scope: Scope) -> bool:
    """Return True if the request came through a socket bound to a loopback address. (In-process test
    clients have no socket: their `server` is a made-up name, and no browser can reach them.)"""
    server = scope.get("server") or (None,)
    return isinstance(server[0], str) and is_loopback(server[0])


def refusal(scope: Scope, token: str | None, cors_origins: tuple[str, ...]) -> tuple[int, str] | None:
    """Return (status, message) if the request must be refused, else None."""
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    host = headers.get(b"host", b"").decode("latin-1")
    if token is None and listens_on_loopback(scope) and not is_loopback(host_name(host)):
        return 400, (f"this server listens on this machine only and answers to localhost or 127.0.0.1, "
                     f"not {host_name(host) or 'an empty Host'!r}; open http://localhost:<port>/ (to serve "
                     "a classroom, start it with --host 0.0.0.0 and a teacher token)")
    if scope["type"] != "http" or scope.get("method", "GET") in SAFE_METHODS or b"origin" not in headers:
        return None
    origin = headers[b"origin"].decode("latin-1")
    if origin in cors_origins or same_origin(origin, host):
        return None
    return 403, (f"refused a change sent from another site ({origin}): runs and models can only be changed "
                 "from this server's own page, or by API clients that send no Origin")


def same_origin(origin: str, host_header: str) -> bool:
    """Return True if `origin` (scheme://name[:port]) names this server as the request reached it."""
    split = urlsplit(origin)
    if split.scheme not in ("http", "https") or not split.netloc:
        return False   # "null" (sandboxed frames, file: pages) and anything odd
    # The Host header's missing port is read with the Origin's scheme: behind a TLS proxy the request
    # may reach us as http while the page is https.
    mine = netloc(split.scheme, host_header)
    return mine is not None and netloc(split.scheme, split.netloc) == mine
