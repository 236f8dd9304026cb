"""The server's memory across restarts: one SQLite file (<state_dir>/state.sqlite3) in WAL mode.

Tables: `runs` (config, status, error, last checkpoint), `metrics` (each run's history, one JSON point a
row), `models` (the registry of models saved from runs; the .npz file is the truth, the row says
where it came from) and `deleted_runs` (ids of deleted runs: never handed out again, and a checkpoint
left behind by a delete that a crash cut short is removed at the next start). One connection shared
by all threads behind a lock: writes are few and small (metrics arrive in batches, about once a
second), so a lock costs nothing measurable.

A database that cannot be read is moved aside (state.sqlite3.corrupt-<time>) and a fresh one started:
the server must come up, and the problem is kept in `problems` for GET /api/health. Rows are checked as
they are read: one bad row (an id that is not r<number>, a config or metrics point or model record that
is not a JSON object, an unknown status) is skipped and named in `problems`; the rest load.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .storage import classify, read_only, writable

log = logging.getLogger(__name__)
FILENAME = "state.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    error TEXT, config TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metrics (run_id TEXT NOT NULL, step INTEGER NOT NULL, point TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics (run_id, step);
CREATE TABLE IF NOT EXISTS models (
    name TEXT PRIMARY KEY, file TEXT NOT NULL, run_id TEXT, created TEXT, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deleted_runs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, deleted TEXT NOT NULL);
"""


RUN_ID = re.compile(r"^r[1-9][0-9]{0,11}$")
STATUSES = ("queued", "running", "paused", "finished", "stopped", "failed", "diverged", "interrupted")


@dataclass(frozen=True)
class RunRow:
    id: str
    name: str
    status: str
    error: str | None
    config: dict[str, Any]
    created: str


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _object(text: object) -> dict[str, Any] | None:
    """Return the JSON object stored in `text`, or None if it is anything else."""
    try:
        value = json.loads(text) if isinstance(text, str | bytes) else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def run_row_problem(row: tuple) -> str | None:
    """Return why a `runs` row (id, name, status, error, config, created) cannot be loaded, or None."""
    run_id, name, status, error, config, created = row
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        return f"its id {run_id!r} is not r followed by a number"
    if status not in STATUSES:
        return f"its status {status!r} is not one of {', '.join(STATUSES)}"
    if _object(config) is None:
        return "its config is not a JSON object"
    if not isinstance(name, str) or not isinstance(created, str) or not isinstance(error, str | None):
        return "its name, creation time or error is not text"
    return None


class Store:
    def __init__(self, state_dir: Path):
        """Open (or create) <state_dir>/state.sqlite3; an unreadable file is moved aside, never fatal.
        In a folder that cannot be written (read-only, or a full disk at start) the database is read
        as it is and every write raises StorageError."""
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / FILENAME
        self.problems: list[str] = []          # each said once, in the order found
        self._lock = threading.Lock()
        self.writable = True
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._db = self._connect()
        except (OSError, sqlite3.DatabaseError) as exc:
            if classify(exc, self.state_dir) is None and writable(self.state_dir):
                self._move_aside(exc)
                return
            # Not a damaged file: a folder that refuses writes. Show what is there; move nothing.
            self.writable = False
            self._db = self._connect_read_only()
            self.report(f"the database {self.path} cannot be written ({exc}): runs and models are shown as "
                        "they were, and nothing new can be saved; restart the server once the state folder "
                        "is writable and has free space")
            return
        if not writable(self.state_dir):   # the file opened, but nothing could be written beside it
            self.writable = False

    def _move_aside(self, exc: BaseException) -> None:
        """Move an unreadable database aside (with its WAL files) and start an empty one."""
        aside = self.path.with_name(f"{FILENAME}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.replace(f"{aside}{suffix}")
        self.report(f"the database {self.path} could not be read ({exc}); it was moved to {aside.name} and "
                    "a new, empty one started (runs before this are not listed)")
        self._db = self._connect()

    def _connect_read_only(self) -> sqlite3.Connection:
        """Return a connection that only reads: the file as it is (its WAL too, when SQLite can read
        it without writing), or an empty in-memory database if there is no readable file."""
        for query in ("mode=ro", "immutable=1"):
            try:
                db = sqlite3.connect(f"file:{self.path}?{query}", uri=True, check_same_thread=False,
                                     isolation_level=None)
                db.execute("SELECT count(*) FROM runs").fetchone()
                return db
            except sqlite3.DatabaseError:
                continue
        db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        db.executescript(SCHEMA)
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        try:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check says: {check}")
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a killed process loses nothing committed; only a power cut may lose
            # the last transactions (never corrupts the file).
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def report(self, message: str) -> None:
        """Keep `message` for GET /api/health (once) and log it the first time."""
        if message not in self.problems:
            log.error(message)
            self.problems.append(message)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock for a write; a full disk or read-only folder becomes StorageError (the
        transaction, if any, is rolled back: nothing half done)."""
        with self._lock:
            if not self.writable:
                raise read_only(self.state_dir)
            try:
                yield self._db
            except (OSError, sqlite3.DatabaseError) as exc:
                if (storage := classify(exc, self.state_dir)) is not None:
                    raise storage from exc
                raise

    def _write(self, sql: str, rows: list[tuple] | tuple) -> None:
        with self._writing() as db:
            if isinstance(rows, list):
                with db:  # one transaction for the whole batch
                    db.execute("BEGIN")
                    db.executemany(sql, rows)
            else:
                db.execute(sql, rows)

    # Runs ------------------------------------------------------------------------------------------
    def save_run(self, run_id: str, name: str, status: str, error: str | None, config: dict[str, Any],
                 created: str) -> None:
        self._write("INSERT INTO runs (seq, id, name, status, error, config, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                    "status = excluded.status, error = excluded.error",
                    (int(run_id[1:]), run_id, name, status, error, _dumps(config), created))

    def runs(self) -> list[RunRow]:
        """Return every stored run that can be loaded, oldest first; the others are reported, skipped."""
        with self._lock:
            rows = self._db.execute("SELECT id, name, status, error, config, created FROM runs "
                                    "ORDER BY seq").fetchall()
        good = []
        for r in rows:
            why = run_row_problem(r)
            if why is not None:
                self.report(f"database: the row of run {str(r[0])[:40]!r} is skipped: {why}")
                continue
            good.append(RunRow(r[0], r[1], r[2], r[3], _object(r[4]) or {}, r[5]))
        return good

    def delete_run(self, run_id: str, deleted: str) -> None:
        """Forget a run and its metrics history in one transaction, and remember its id as deleted."""
        with self._writing() as db, db:
            db.execute("BEGIN")
            db.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            db.execute("INSERT OR REPLACE INTO deleted_runs (seq, id, deleted) VALUES (?, ?, ?)",
                       (int(run_id[1:]), run_id, deleted))

    def deleted_runs(self) -> list[str]:
        """Return the ids of every deleted run, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM deleted_runs ORDER BY seq").fetchall()
        return [r[0] for r in rows if isinstance(r[0], str) and RUN_ID.match(r[0])]

    def ids_taken(self) -> list[str]:
        """Return every run id ever handed out: stored (even rows skipped as unreadable) or deleted. A
        new run must not take one of them."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM runs UNION SELECT id FROM deleted_runs").fetchall()
        return [r[0] for r in rows if isinstance(r[0], str) and RUN_ID.match(r[0])]

    # Metrics ---------------------------------------------------------------------------------------
    def add_points(self, points: list[tuple[str, dict[str, Any]]]) -> None:
        """Append (run id, metrics point) pairs in one transaction."""
        if points:
            self._write("INSERT INTO metrics (run_id, step, point) VALUES (?, ?, ?)",
                        [(run_id, p["step"], _dumps(p)) for run_id, p in points])

    def points(self, run_id: str) -> list[dict[str, Any]]:
        """Return a run's stored metrics points in the order they were recorded."""
        with self._lock:
            rows = self._db.execute("SELECT point FROM metrics WHERE run_id = ? ORDER BY rowid",
                                    (run_id,)).fetchall()
        points = [p for r in rows if (p := _object(r[0])) is not None and isinstance(p.get("step"), int)]
        if len(points) < len(rows):
            self.report(f"database: run {run_id}: {len(rows) - len(points)} metrics point(s) are not JSON "
                        "objects with a step, skipped")
        return points

    def drop_points_after(self, run_id: str, step: int) -> None:
        """Forget a run's points beyond `step` (a resumed run trains those steps again)."""
        self._write("DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, step))

    # Models ----------------------------------------------------------------------------------------
    def save_model(self, name: str, file: str, meta: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO models (name, file, run_id, created, meta) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, file, meta.get("run"), meta.get("created"), json.dumps(meta)))

    def models(self) -> dict[str, dict[str, Any]]:
        """Return name -> {file, run_id, created, meta} for every registered model."""
        with self._lock:
            rows = self._db.execute("SELECT name, file, run_id, created, meta FROM models").fetchall()
        found = {}
        for name, file, run_id, created, meta in rows:
            record = _object(meta)
            if record is None or not isinstance(name, str) or not isinstance(file, str):
                self.report(f"database: the row of model {str(name)[:40]!r} is skipped: its record is not a "
                            "JSON object (the model file, if there, registers it again)")
                continue
            found[name] = {"file": file, "run_id": run_id, "created": created, "meta": record}
        return found

    def delete_model(self, name: str) -> bool:
        """Forget a model's registry row; return whether there was one."""
        with self._writing() as db:
            return db.execute("DELETE FROM models WHERE name = ?", (name,)).rowcount > 0
