"""Start the real `digit-studio serve` (uvicorn) for tests and benchmarks that need a server: one
starter (serve) for every way they need it.

    with running_server("--no-train") as url: ...                 # the base URL; state in a temp folder
    with serve(state_dir, "--no-train", log=path) as server: ...  # a Server: url, port, process, log

tests/support/studio.py starts its servers here too, on a port and host of its choosing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass
class Server:
    """A running server: its base URL (always on 127.0.0.1), port, process and the file its output
    goes to."""

    url: str
    port: int
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve(state_dir: Path, *args: str, log: Path, host: str = "127.0.0.1", port: int | None = None,
          env: dict | None = None, wait: bool = True, prefix: Sequence[str] = ()) -> Iterator[Server]:
    """Run `python -m app.cli.main serve --host HOST --port PORT --state-dir STATE_DIR *args`, its
    output to `log`, and yield it once GET /api/health answers (at once if not `wait`); stop it after.

    `port` None picks a free one; `env` adds environment variables; `prefix` goes before the command (a
    wrapper that execs it, such as `unshare ...`, so the process is the server). Raises RuntimeError with the
    server's output if it exits or does not become healthy within START_TIMEOUT."""
    port = free_port() if port is None else port
    cmd = [*prefix, sys.executable, "-m", "app.cli.main", "serve", "--host", host, "--port", str(port),
           "--state-dir", str(state_dir), *args]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                                stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", port, proc, Path(log))
    try:
        if wait:
            try:
                wait_until(lambda: _healthy(server.url) or proc.poll() is not None, timeout=START_TIMEOUT)
                why = f"exited with code {proc.returncode}" if proc.poll() is not None else ""
            except AssertionError:
                why = f"did not answer /api/health within {START_TIMEOUT:.0f} s"
            if why:
                raise RuntimeError(f"server {' '.join(cmd)} {why}; its output:\n{server.output()[-5000:]}")
        yield server
    finally:
        _stop(proc)


@contextmanager
def running_server(*args: str, state_dir: Path | None = None, env: dict | None = None) -> Iterator[str]:
    """Run the server on 127.0.0.1 with `*args` and yield its base URL ("http://127.0.0.1:PORT") once
    GET /api/health answers; stop it afterwards. State goes to `state_dir` (a fresh temporary folder if
    None); `env` adds environment variables."""
    with tempfile.TemporaryDirectory(prefix="digit-studio-test-") as tmp:
        state = Path(state_dir) if state_dir is not None else Path(tmp) / "state"
        with serve(state, *args, log=Path(tmp) / "server.log", env=env) as server:
            yield server.url
