"""A state folder that cannot take a write: the disk is full (507) or the folder is read-only (503).

Every write to the state folder (the database, checkpoints, saved models) that fails for one of these
reasons becomes a StorageError, which the security middleware answers as JSON with what to do; the
operation it interrupted is undone first (nothing half done). GET /api/health asks `folder_problems`.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
LOW_SPACE = 1024 * 1024   # below this much free space, health says the disk is full


class StorageError(Exception):
    """The state folder refused a write; `status` is 507 (full) or 503 (read-only)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def full(folder: Path) -> StorageError:
    return StorageError(f"the disk holding the state folder {folder} is full, so nothing was saved or "
                        "changed; free some space (delete old runs, models or other files) and try again",
                        507)


def read_only(folder: Path) -> StorageError:
    return StorageError(f"the state folder {folder} is read-only, so nothing was saved or changed; make it "
                        "writable, or restart the server with --state-dir pointing to a writable folder", 503)


def classify(exc: BaseException, folder: Path) -> StorageError | None:
    """Return the StorageError that `exc` (an OSError or a SQLite error) means, or None if it is
    something else (a bug, a corrupt file) that must not be reported as a storage problem."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError):
        if exc.errno in FULL_ERRNOS:
            return full(folder)
        if exc.errno in READ_ONLY_ERRNOS:
            return read_only(folder)
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "full" in text:
            return full(folder)
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return read_only(folder)
    return None


def writable(folder: Path) -> bool:
    """Return True if files can be created in `folder` (a read-only mount or permissions say no)."""
    return os.access(folder, os.W_OK | os.X_OK)


def folder_problems(folder: Path) -> list[str]:
    """Return what keeps the state folder from taking writes, as sentences (none if all is well)."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"the state folder {folder} does not exist"]
    if not writable(folder):
        return [f"the state folder {folder} is not writable: runs, metrics, checkpoints and models cannot "
                "be saved; make it writable, or restart with --state-dir pointing to a writable folder"]
    if shutil.disk_usage(folder).free < LOW_SPACE:
        return [f"the disk holding the state folder {folder} is full: runs, metrics, checkpoints and models "
                "cannot be saved; free some space"]
    return []
