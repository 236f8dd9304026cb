"""The processes of this machine as /proc shows them, for tests and benches that find a server or a
worker by its command line (to kill it, pin it, or see where a run trains and what it costs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def processes() -> Iterator[tuple[int, list[bytes], int]]:
    """Yield (pid, command line split at its NULs, parent pid) of every process still there."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:   # it ended meanwhile
            continue
        ppid = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), 0)
        yield int(entry.name), cmd, ppid


def server_pid(port: int) -> int:
    """Return the pid of the `digit-studio serve ... --port PORT` process."""
    for pid, cmd, _ in processes():
        if b"serve" in cmd and b"--port" in cmd and str(port).encode() in cmd:
            return pid
    raise AssertionError(f"no server process on port {port}")


def workers_of(server: int) -> list[int]:
    """Return the pids of the worker processes of the server process `server`: its children made by
    multiprocessing's spawn (not its resource tracker)."""
    return [pid for pid, cmd, ppid in processes() if ppid == server and any(b"spawn_main" in p for p in cmd)]


def cpu_ticks(pid: int) -> int:
    """Return a process's user + system CPU time (every thread) in clock ticks (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def memory(pid: int) -> dict[str, int]:
    """Return a process's memory in kB from /proc/PID/smaps_rollup (Rss, Pss, Private_*, Shared_*)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":")
        fields[name] = int(value.split()[0])
    return fields


def rss_mb(pid: int | str = "self") -> float:
    """Return a process's resident memory in MB (VmRSS in /proc/PID/status); "self": this process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")
