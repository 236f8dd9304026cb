"""How the real `digit-studio serve` serves: on uvicorn's fast parts (uvloop, httptools), and with an
access log that leaves out the successful predicts and health checks a class sends by the hundred."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.server import serve
from tests.support.wait import wait_until
from tests.test_persistence import call

pytestmark = pytest.mark.slow
PIXELS = {"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464}


def requests_logged(server) -> list[str]:
    return [line for line in server.output().splitlines() if "app.server.access" in line]


def test_the_server_runs_on_uvloop_and_httptools(tmp_path):
    """pyproject installs them; uvicorn picks them by itself (serve passes no loop or http)."""
    with serve(tmp_path / "state", "--no-train", log=tmp_path / "server.log") as server:
        assert call(f"{server.url}/api/predict", "POST", PIXELS)[0] == 200
        maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
    assert "/uvloop/" in maps, "the server's event loop is not uvloop"
    assert "/httptools/" in maps, "the server does not parse HTTP with httptools"


def test_quiet_access_log_leaves_out_successful_predicts_and_health_checks(tmp_path):
    with serve(tmp_path / "state", "--no-train", log=tmp_path / "server.log") as server:
        for _ in range(3):
            assert call(f"{server.url}/api/predict", "POST", PIXELS)[0] == 200
            assert call(f"{server.url}/api/health")[0] == 200
        assert call(f"{server.url}/api/predict", "POST", {"pixels": "no"})[0] == 422
        assert call(f"{server.url}/api/models")[0] == 200
        lines = wait_until(lambda: requests_logged(server), lambda found: len(found) >= 2)
    assert any('"POST /api/predict HTTP/1.1" 422' in line for line in lines), lines
    assert any('"GET /api/models HTTP/1.1" 200' in line for line in lines), lines
    assert not any('/api/predict HTTP/1.1" 200' in line or "/api/health" in line for line in lines), lines
    assert not any("uvicorn" in line and "/api/" in line for line in server.output().splitlines()), \
        "uvicorn's own access log is on as well"


def test_access_log_all_logs_every_request_and_off_none(tmp_path):
    with serve(tmp_path / "all", "--no-train", "--access-log", "all", log=tmp_path / "all.log") as server:
        assert call(f"{server.url}/api/predict?steps=false", "POST", PIXELS)[0] == 200
        lines = wait_until(lambda: requests_logged(server), lambda found: any("predict" in x for x in found))
    assert any('127.0.0.1:' in line and '"POST /api/predict?steps=false HTTP/1.1" 200' in line
               for line in lines), lines
    with serve(tmp_path / "off", "--no-train", "--access-log", "off", log=tmp_path / "off.log") as server:
        assert call(f"{server.url}/api/predict", "POST", {})[0] == 422
        assert call(f"{server.url}/api/models")[0] == 200
    assert requests_logged(server) == [], server.output()[-2000:]
