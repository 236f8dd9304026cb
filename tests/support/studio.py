"""A real `digit-studio serve` for the reliability tests: any --host, a port in 8400-8499 when one is
free (else any), its log kept for assertions, and small HTTP helpers that never raise on 4xx/5xx.
The server is started by tests/support/server.py's serve, as every test server is."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.server import Server, serve

PORTS = range(8400, 8500)
Studio = Server   # the name the reliability tests know it by


def pick_port() -> int:
    """Return a free TCP port, from 8400-8499 if one is free there."""
    for port in [*PORTS, 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def request(url: str, method: str = "GET", body: bytes | dict | None = None,
            headers: dict[str, str] | None = None, timeout: float = 30.0) -> tuple[int, dict, object]:
    """Return (status, headers, parsed JSON or text) for one HTTP request."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = {**({"Content-Type": "application/json"} if isinstance(body, dict) else {}), **(headers or {})}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, head, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, head, raw = e.code, dict(e.headers), e.read()
    text = raw.decode(errors="replace")
    try:
        return status, head, json.loads(text) if text else None
    except ValueError:
        return status, head, text


def raw_request(port: int, text: str, timeout: float = 30.0) -> str:
    """Send `text` (a whole HTTP/1.1 request, any Host header) to 127.0.0.1:port; return the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(text.encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@contextmanager
def studio(state_dir: Path, *args: str, host: str = "127.0.0.1", env: dict | None = None,
           wait: bool = True) -> Iterator[Studio]:
    """Run the real server on `host`; yield once GET /api/health answers (if `wait`); stop it after.
    Its output goes to server-PORT.log beside `state_dir`."""
    port = pick_port()
    with serve(state_dir, *args, log=Path(state_dir).parent / f"server-{port}.log", host=host, port=port,
               env=env, wait=wait) as server:
        yield server
