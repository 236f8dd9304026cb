"""Start the real `digit-studio serve` (uvicorn) on a free loopback port for tests that need a server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.wait import DEADLINE, wait_until

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = DEADLINE
STOP_GRACE = 5.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_GRACE)


@contextmanager
def running_server(*args: str, state_dir: Path | None = None, env: dict | None = None) -> Iterator[str]:
    """Run `python -m app.cli.main serve --host 127.0.0.1 --port PORT *args` and yield its base URL
    ("http://127.0.0.1:PORT") once GET /api/health answers; stop the server afterwards.

    State goes to `state_dir` (a fresh temporary folder if None); `env` adds environment variables.
    Raises RuntimeError with the server's output if it does not become healthy within START_TIMEOUT."""
    with tempfile.TemporaryDirectory(prefix="digit-studio-test-") as tmp:
        state = Path(state_dir) if state_dir is not None else Path(tmp) / "state"
        log_path = Path(tmp) / "server.log"
        port = free_port()
        cmd = [sys.executable, "-m", "app.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--state-dir", str(state), *args]
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until(lambda: _healthy(url) or proc.poll() is not None, timeout=START_TIMEOUT)
                why = f"exited with code {proc.returncode}" if proc.poll() is not None else ""
            except AssertionError:
                why = f"did not answer /api/health within {START_TIMEOUT:.0f} s"
            if why:
                raise RuntimeError(f"server {' '.join(cmd)} {why}; its output:\n"
                                   f"{log_path.read_text(errors='replace')[-5000:]}")
            yield url
        finally:
            _stop(proc)

