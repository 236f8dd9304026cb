"""A replay's file, <run>.replay.npz: the snapshots' weights as one float32 array `params` (a row a
snapshot) and a JSON `header` (sizes, activation, cost, indices, meta, next_index, extra). Arrays only,
never pickle; written whole and atomically.

It is read whole at start (to check it) and when an ended run trains on, and one row at a time when
the timeline or predict asks for a snapshot of an ended run, whose weights are not kept in memory. Rows
read that way pass through one small cache shared by every run (least recently used out first), so
scrubbing a timeline back and forth reads each snapshot once.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy

from app.atomicfile import atomic_write
from app.nn.network import Network

CACHE_BYTES = 8 * 2**20     # every run's snapshots read back from disk, together


def write(path: Path, header: dict[str, Any], params: np.ndarray) -> None:
    # private: mkstemp's 0600, the mode replay files have always had
    atomic_write(path, lambda f: np.savez(f, params=params, header=np.array(json.dumps(header))),
                 private=True)


def read(path: Path, max_rows: int) -> tuple[dict[str, Any], np.ndarray]:
    """Return (header, params) of a whole replay file; raise ValueError if it is not one (a truncated
    or damaged file included)."""
    try:
        # Opened here: numpy leaves a file it opened open when the zip inside turns out damaged.
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as f:
            header = json.loads(str(f["header"]))
            params = f["params"]
    except (zipfile.BadZipFile, EOFError) as exc:   # cut short or damaged: numpy's own errors
        raise ValueError(f"{path}: {exc}") from None
    _check(path, header, params.shape, max_rows)
    return header, params


def read_row(path: Path, index: int, max_rows: int) -> tuple[dict[str, Any], np.ndarray]:
    """Return (header, weights) of the snapshot with this index, reading only its row; raise
    ValueError if the file is not a replay file or has no such snapshot, OSError if it cannot be read."""
    try:
        with zipfile.ZipFile(path) as z:
            with z.open("header.npy") as f:
                header = json.loads(str(npy.read_array(f, allow_pickle=False)))
            with z.open("params.npy") as f:
                version = npy.read_magic(f)
                if version != (1, 0) and version != (2, 0):
                    raise ValueError(f"{path}: params of an unknown .npy version {version}")
                read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
                shape, fortran, dtype = read_header(f)
                _check(path, header, shape, max_rows)
                if fortran or dtype != np.float32 or index not in header["indices"]:
                    raise ValueError(f"{path}: no float32 row for snapshot {index}")
                width = shape[1] * 4
                f.seek(header["indices"].index(index) * width, io.SEEK_CUR)
                row = f.read(width)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    if len(row) != width:
        raise ValueError(f"{path}: cut short")
    return header, np.frombuffer(row, dtype=np.float32)   # read-only: a cached snapshot is shared


def _check(path: Path, header: dict[str, Any], shape: tuple[int, ...], max_rows: int) -> None:
    indices, metas = header["indices"], header["meta"]
    if len(shape) != 2 or shape[0] != len(indices) or len(metas) != len(indices) or len(indices) > max_rows:
        raise ValueError(f"{path}: not a replay file of this version")


class Cache:
    """Networks read back from replay files, at most `max_bytes` of weights, least recently used out
    first. Keys are (the replay's token, the snapshot's index)."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._nets: OrderedDict[tuple[int, int], Network] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> Network | None:
        with self._lock:
            net = self._nets.get(key)
            if net is not None:
                self._nets.move_to_end(key)
            return net

    def put(self, key: tuple[int, int], net: Network) -> None:
        with self._lock:
            old = self._nets.pop(key, None)
            self._bytes += net.params.nbytes - (old.params.nbytes if old is not None else 0)
            self._nets[key] = net
            while self._bytes > self.max_bytes and len(self._nets) > 1:
                self._bytes -= self._nets.popitem(last=False)[1].params.nbytes

    def drop(self, token: int) -> None:
        """Forget every network read from the replay named `token` (its run was deleted)."""
        with self._lock:
            for key in [k for k in self._nets if k[0] == token]:
                self._bytes -= self._nets.pop(key).params.nbytes

    def nbytes(self) -> int:
        """Return the bytes of weights held (a snapshot larger than the bound is held alone)."""
        with self._lock:
            return self._bytes


CACHE = Cache()
