"""Cross-site requests against a real server: a page on another site cannot change anything (Origin),
a hostile name resolved to 127.0.0.1 cannot reach a loopback server (Host, the DNS-rebinding defence),
and a classroom server reached at the machine's own address keeps working for every student."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
import websockets

from app.server.origins import refusal
from tests.support.studio import raw_request, request, studio

pytestmark = pytest.mark.slow
TOKEN = "correct-horse-battery"
TINY_RUN = {"hidden": [8], "epochs": 1, "train_subset": 200, "validation_size": 0, "batch_size": 50}
EVIL = "http://evil.example"


def machine_address() -> str:
    """Return this machine's address on its network (what students type), not a loopback one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.254", 9))   # no packet is sent: this only picks the outgoing interface
        address = s.getsockname()[0]
    if address.startswith("127."):
        pytest.fail("this machine has no non-loopback address to test a classroom server with")
    return address


def form_post(port: int, path: str, host: str, origin: str | None) -> str:
    """Return the status line of what a browser sends for a cross-site <form method=post>."""
    origin_line = f"Origin: {origin}\r\n" if origin else ""
    reply = raw_request(port, f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{origin_line}"
                              "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n"
                              "Connection: close\r\n\r\na=1")
    return reply


def test_a_loopback_server_refuses_other_sites_and_other_names(tmp_path: Path):
    with studio(tmp_path / "state", "--no-train") as server:
        mine = f"127.0.0.1:{server.port}"
        for path in ("/api/runs", "/api/runs/r1/stop", "/api/lessons/runs/many-valleys?seeds=6"):
            reply = form_post(server.port, path, mine, EVIL)
            assert reply.startswith("HTTP/1.1 403"), (path, reply[:300])
            assert "another site" in reply and "evil.example" in reply
        for origin in ("null", "http://127.0.0.1:1", f"https://evil.example:{server.port}"):
            status, _, body = request(f"{server.url}/api/runs", "POST", TINY_RUN, {"Origin": origin})
            assert status == 403, (origin, body)
        assert request(f"{server.url}/api/runs")[2] == [], "nothing was started by the refused requests"

        # DNS rebinding: the page's own origin is the hostile name, so Origin matches Host; Host is refused.
        rebound = f"attacker.example:{server.port}"
        for method, path in (("GET", "/api/health"), ("GET", "/api/runs"), ("POST", "/api/runs")):
            reply = raw_request(server.port, f"{method} {path} HTTP/1.1\r\nHost: {rebound}\r\n"
                                             f"Origin: http://{rebound}\r\nContent-Length: 0\r\n"
                                             "Connection: close\r\n\r\n")
            assert reply.startswith("HTTP/1.1 400"), (path, reply[:300])
            assert "localhost" in reply and "attacker.example" in reply
        assert asyncio.run(websocket_status(server.port, rebound)) == 403

        # The server's own page, under each of its loopback names, and API clients with no Origin work.
        assert asyncio.run(websocket_status(server.port, f"localhost:{server.port}")) == 101
        for name in (mine, f"localhost:{server.port}", f"[::1]:{server.port}"):
            status, _, body = request(f"{server.url}/api/runs", "POST", TINY_RUN,
                                      {"Host": name, "Origin": f"http://{name}"})
            assert status == 201, (name, body)
            assert request(f"{server.url}/api/runs/{body['id']}/stop", "POST", b"",
                           {"Host": name, "Origin": f"http://{name}"})[0] in (200, 409)
        status, _, body = request(f"{server.url}/api/runs", "POST", TINY_RUN)
        assert status == 201, body
        request(f"{server.url}/api/runs/{body['id']}/stop", "POST", b"")


async def websocket_status(port: int, host: str) -> int:
    """Return the HTTP status of a WebSocket handshake to 127.0.0.1:port that names `host` (101: open)."""
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        async with websockets.connect(f"ws://{host}/api/runs/r1/live", sock=sock, open_timeout=30):
            return 101
    except websockets.InvalidStatus as exc:
        return exc.response.status_code


def test_a_classroom_server_works_for_students_at_the_machine_address(tmp_path: Path):
    address = machine_address()
    with studio(tmp_path / "state", "--no-train", "--token", TOKEN, host="0.0.0.0") as server:
        for name in (f"{address}:{server.port}", f"studio.school.lan:{server.port}"):
            page = f"http://{name}"
            status, _, _ = request(f"http://{address}:{server.port}/", headers={"Host": name})
            assert status == 200, name
            assert request(f"http://{address}:{server.port}/api/health", headers={"Host": name})[0] == 200
            student = {"Host": name, "Origin": page}
            status, _, body = request(f"http://{address}:{server.port}/api/predict", "POST",
                                      {"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464}, student)
            assert status == 200, (name, body)
            status, _, body = request(f"http://{address}:{server.port}/api/runs", "POST", TINY_RUN, student)
            assert status == 401 and "teacher token" in body["detail"], "students still need the token"
            teacher = {**student, "Authorization": f"Bearer {TOKEN}"}
            status, _, body = request(f"http://{address}:{server.port}/api/runs", "POST", TINY_RUN, teacher)
            assert status == 201, (name, body)
            request(f"http://{address}:{server.port}/api/runs/{body['id']}/stop", "POST", b"", teacher)
            evil = {**teacher, "Origin": EVIL}
            status, _, body = request(f"http://{address}:{server.port}/api/runs", "POST", TINY_RUN, evil)
            assert status == 403, "even with the token, another site's page cannot change runs"
        assert len(request(f"{server.url}/api/runs")[2]) == 2


def scope(method: str, host: str, origin: str | None = None, server: str = "127.0.0.1") -> dict:
    headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
    return {"type": "http", "method": method, "headers": headers, "server": (server, 8000), "scheme": "http"}


@pytest.mark.parametrize("method, host, origin, server, token, status", [
    ("GET", "localhost:8000", None, "127.0.0.1", None, None),
    ("GET", "LOCALHOST.:8000", None, "127.0.0.1", None, None),          # case and a final dot
    ("GET", "[::1]:8000", None, "::1", None, None),
    ("GET", "127.3.4.5:8000", None, "127.0.0.1", None, None),
    ("GET", "attacker.example:8000", None, "127.0.0.1", None, 400),    # DNS rebinding
    ("GET", "", None, "127.0.0.1", None, 400),                        # no Host at all
    ("GET", "attacker.example:8000", None, "127.0.0.1", "t", None),   # a token is in force
    ("GET", "studio.lan:8000", None, "192.0.2.2", "t", None),         # a classroom
    ("POST", "localhost:8000", "http://localhost:8000", "127.0.0.1", None, None),
    ("POST", "studio.lan", "https://studio.lan", "127.0.0.1", "t", None),   # TLS proxy, default ports
    ("POST", "studio.lan:80", "http://studio.lan", "192.0.2.2", "t", None),
    ("POST", "localhost:8000", "http://127.0.0.1:8000", "127.0.0.1", None, 403),  # another origin
    ("POST", "localhost:8000", "http://localhost:8001", "127.0.0.1", None, 403),
    ("DELETE", "localhost:8000", "null", "127.0.0.1", None, 403),
    ("OPTIONS", "localhost:8000", "http://evil.example", "127.0.0.1", None, None),  # preflight: CORS's job
    ("POST", "localhost:8000", "http://projector.lan", "127.0.0.1", None, None),    # in cors_origins
    ("POST", "testserver", "http://evil.example", "testserver", None, 403),  # in-process: Origin checked
])
def test_the_rules(method, host, origin, server, token, status):
    refused = refusal(scope(method, host, origin, server), token, ("http://projector.lan",))
    assert (refused and refused[0]) == status, refused
