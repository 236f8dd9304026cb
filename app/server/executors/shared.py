"""MNIST shared by the worker processes: the server writes the four arrays once, every worker maps the
same pages.

Only where each array is, its shape and its dtype cross the pipe (`spec`); a worker attaches read-only
views, so a run costs its own prepared data (validation copy, evaluation sample, epoch buffers), not
another 220 MB. Where the pages live, in order of preference:

- "shm": POSIX shared memory (/dev/shm). Creating a block there reserves nothing, and a page written
  past the tmpfs's size kills the process with SIGBUS (a container's default /dev/shm is 64 MB). So
  the free space is checked first, with headroom, and every block's pages are reserved (fallocate)
  before a byte is written: too small a /dev/shm says so as an OSError we can act on, never a SIGBUS.
- "files": one file per array in a temporary folder on disk, mapped read-only (np.memmap): the page
  cache shares them between the workers just the same. A flock held by the owner marks the folder in
  use, so a later server removes one whose owner died without closing it (kill -9).
- "copies": if even that fails, the arrays themselves go to each worker (a copy per worker).

Whenever it is not "shm", `warning` says why and how to fix it (logged, and in GET /api/health).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import tempfile
from multiprocessing import resource_tracker, shared_memory
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.training.mnist import Mnist, Split

log = logging.getLogger(__name__)
FIELDS = ("train.images", "train.labels", "test.images", "test.labels")
SHM_DIR = Path("/dev/shm")     # where shm_open's blocks live on Linux (a test points it at a small tmpfs)
HEADROOM = 16 * 2**20          # left free in SHM_DIR for others (semaphores, other programs)
PREFIX = "digit-studio-mnist-"
FIX = ("give the server more shared memory: `docker run --shm-size=512m ...` (podman run too; "
       "compose: `shm_size: 512m`)")


def free_bytes(folder: Path) -> int | None:
    """Return the bytes an unprivileged writer may still put in `folder`'s filesystem (None: unknown)."""
    try:
        stat = os.statvfs(folder)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def _array(data: Mnist, field: str) -> np.ndarray:
    split, name = field.split(".")
    return np.ascontiguousarray(getattr(getattr(data, split), name))


class SharedMnist:
    """The owner's side: puts the arrays where the workers can map them, keeps them, frees them on close().
    `shm_dir`: the folder whose free space decides whether shared memory is used (SHM_DIR);
    `file_dir`: where the fallback's folder goes (the system's temporary folder)."""

    def __init__(self, data: Mnist, shm_dir: Path | None = None, file_dir: Path | None = None):
        self._blocks: list[shared_memory.SharedMemory] = []
        self._folder: Path | None = None
        self._owner: IO[bytes] | None = None
        self.spec: list[dict[str, Any]] = []
        self.mode = "shm"   # or "files", "copies" (see above), and then `warning` says why
        self.warning: str | None = None
        self.checksums = dict(data.checksums)
        arrays = {field: _array(data, field) for field in FIELDS}
        self.nbytes = need = sum(a.nbytes for a in arrays.values())
        shm = shm_dir or SHM_DIR
        free = free_bytes(shm)
        try:
            if free is not None and free < need + HEADROOM:
                raise OSError(f"{shm} has {free / 2**20:.0f} MB free; MNIST needs {need / 2**20:.0f} MB "
                              f"and {HEADROOM // 2**20} MB are left for others")
            views = self._in_shared_memory(arrays)
        except OSError as exc:
            self._close_blocks()
            views = self._fall_back(arrays, f"MNIST does not fit in shared memory ({exc})", file_dir)
        # The server's own reads (probe, lessons) use the shared pages too.
        self.data = _mnist(views, self.checksums)

    def _in_shared_memory(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for array in arrays.values():   # every block made and reserved before any is written or viewed
            block = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
            self._blocks.append(block)
            _reserve(block._fd, block.size)   # type: ignore[attr-defined]
        views = {}
        for (field, array), block in zip(arrays.items(), self._blocks, strict=True):
            view: np.ndarray = np.ndarray(array.shape, array.dtype, buffer=block.buf)
            view[...] = array
            view.flags.writeable = False
            views[field] = view
            self.spec.append({"field": field, "name": block.name, **_layout(array)})
        return views

    def _fall_back(self, arrays: dict[str, np.ndarray], why: str, file_dir: Path | None) -> dict:
        self.spec = []
        try:
            views = self._in_files(arrays, file_dir)
            self.mode, how = "files", f"the workers share it through files in {self._folder} instead"
        except OSError as exc:
            self._remove_folder()
            views, self.spec = dict(arrays), [{"field": f, "array": a} for f, a in arrays.items()]
            self.mode, how = "copies", f"nor in a temporary folder ({exc}): each worker gets a copy instead"
        self.warning = f"{why}; {how}. To fix it, {FIX}."
        log.warning("%s", self.warning)
        return views

    def _in_files(self, arrays: dict[str, np.ndarray], file_dir: Path | None) -> dict[str, np.ndarray]:
        parent = Path(file_dir or tempfile.gettempdir())
        remove_abandoned(parent)
        self._folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        self._owner = open(self._folder / "owner.lock", "wb")   # noqa: SIM115 (held until close())
        fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        views = {}
        for field, array in arrays.items():
            path = self._folder / f"{field}.bin"
            with open(path, "wb") as out:
                array.tofile(out)   # write(), unlike a mapping, says ENOSPC
            views[field] = _map(path, array.shape, array.dtype)
            self.spec.append({"field": field, "path": str(path), **_layout(array)})
        return views

    def _close_blocks(self) -> None:
        for block in self._blocks:
            block.close()
            block.unlink()
        self._blocks = []

    def _remove_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        if self._owner is not None:
            self._owner.close()
            self._owner = None

    def close(self) -> None:
        self.data = None  # type: ignore[assignment]
        self._close_blocks()
        self._remove_folder()
        self.spec = []


def remove_abandoned(parent: Path) -> None:
    """Remove the fallback folders in `parent` whose owner is gone (its flock went with it)."""
    for folder in parent.glob(PREFIX + "*"):
        try:
            with open(folder / "owner.lock", "rb") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:   # held (a live server's), or not ours to judge
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _reserve(fd: int, size: int) -> None:
    """Allocate a block's pages now, so that no room says ENOSPC here instead of SIGBUS at a write
    (skipped where the system cannot: then the free-space check is all there is)."""
    allocate = getattr(os, "posix_fallocate", None)   # not on macOS
    if allocate is None:
        return
    try:
        allocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise


def _layout(array: np.ndarray) -> dict[str, Any]:
    return {"shape": list(array.shape), "dtype": array.dtype.str}


def _map(path: Path, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if int(np.prod(shape)) == 0:   # np.memmap refuses an empty file
        return np.empty(shape, dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


def attach(spec: list[dict[str, Any]], checksums: dict[str, str]) -> tuple[Mnist, list]:
    """Return MNIST as read-only views of the owner's blocks, files or copies, and the blocks (keep them
    while in use). A worker must not register the blocks with the resource tracker: it shares the
    owner's, which would otherwise unlink them when the first worker exits."""
    blocks, views = [], {}
    register = resource_tracker.register
    resource_tracker.register = lambda *args, **kwargs: None   # type: ignore[assignment]
    try:
        for item in spec:
            if "array" in item:
                views[item["field"]] = item["array"]
                continue
            shape, dtype = tuple(item["shape"]), np.dtype(item["dtype"])
            if "path" in item:
                views[item["field"]] = _map(Path(item["path"]), shape, dtype)
                continue
            block = shared_memory.SharedMemory(name=item["name"])
            view: np.ndarray = np.ndarray(shape, dtype, buffer=block.buf)
            view.flags.writeable = False
            blocks.append(block)
            views[item["field"]] = view
    finally:
        resource_tracker.register = register   # type: ignore[assignment]
    return _mnist(views, checksums), blocks


def _mnist(views: dict[str, np.ndarray], checksums: dict[str, str]) -> Mnist:
    return Mnist(Split(views["train.images"], views["train.labels"]),
                 Split(views["test.images"], views["test.labels"]), checksums)
