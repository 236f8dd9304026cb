"""Files replaced whole or not at all: a temporary file in the same folder, written, synced, renamed.

A crash (or a full disk) part-way leaves the file that was there before, intact, and at worst a
temporary `.<name>.<random>.tmp` beside it, which remove_stale_temporaries sweeps at the next start.
Model files (app.training) and the server's replay snapshots and checkpoints all write this way; this
module knows neither, only files.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)
TEMPORARY_GLOB = ".*.tmp"      # what a killed writer leaves; mkstemp below names its files to match


def _read_umask() -> int:
    # The only way to read the umask is to set it; do it once at import, before server threads start.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write(path: Path, write: Callable[[BinaryIO], object], *, private: bool = False) -> None:
    """Call write(f) on a new temporary file beside `path`, then put it in place of `path` in one
    rename; on any error (ENOSPC included, re-raised as it came) remove the temporary file.

    The file gets the mode a plain open() would give it, or, if `private`, mkstemp's 0600."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if not private:
            os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())   # the data on disk before the rename makes it the file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporary files a killed writer leaves (`.<name>.*.tmp`); the file they were meant to
    replace is intact, by construction."""
    for tmp in folder.glob(TEMPORARY_GLOB):
        log.warning("removing %s, left by a write that was interrupted", tmp)
        try:
            tmp.unlink(missing_ok=True)
        except OSError as exc:   # a read-only folder: harmless, it is swept at a later start
            log.warning("could not remove %s (%s)", tmp, exc)
