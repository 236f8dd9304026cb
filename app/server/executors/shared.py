"""MNIST in shared memory: the server copies the four arrays in once, every worker maps the same pages.

Only names, shapes and dtypes cross the pipe (`spec`); a worker attaches read-only views, so a run
costs its own prepared data (validation copy, evaluation sample, epoch buffers), not another 220 MB.
"""

from __future__ import annotations

from multiprocessing import resource_tracker, shared_memory
from pathlib import Path
from typing import Any

import numpy as np

from app.training.mnist import Mnist, Split, data_dir, load_split

FIELDS = ("train.images", "train.labels", "test.images", "test.labels")


def read_mnist(folder: Path | None = None) -> Mnist:
    """Return MNIST read (and checksummed) afresh, not through load_mnist's cache, which would hold
    the server's copy for good after the worker processes' shared one replaced it."""
    path = data_dir(folder)
    train, train_sums = load_split(path, "train")
    test, test_sums = load_split(path, "t10k")
    return Mnist(train, test, {**train_sums, **test_sums})


def _array(data: Mnist, field: str) -> np.ndarray:
    split, name = field.split(".")
    return getattr(getattr(data, split), name)


class SharedMnist:
    """The owner's side: creates the blocks, keeps them alive, unlinks them on close()."""

    def __init__(self, data: Mnist):
        self._blocks: list[shared_memory.SharedMemory] = []
        self.spec: list[dict[str, Any]] = []
        views = {}
        for field in FIELDS:
            array = np.ascontiguousarray(_array(data, field))
            block = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
            view: np.ndarray = np.ndarray(array.shape, array.dtype, buffer=block.buf)
            view[...] = array
            view.flags.writeable = False
            self._blocks.append(block)
            views[field] = view
            self.spec.append({"field": field, "name": block.name, "shape": list(array.shape),
                              "dtype": array.dtype.str})
        self.checksums = dict(data.checksums)
        # The server's own reads (probe, lessons) use the shared pages too.
        self.data = _mnist(views, self.checksums)

    @property
    def nbytes(self) -> int:
        return sum(b.size for b in self._blocks)

    def close(self) -> None:
        self.data = None  # type: ignore[assignment]
        for block in self._blocks:
            block.close()
            block.unlink()
        self._blocks = []


def attach(spec: list[dict[str, Any]], checksums: dict[str, str]) -> tuple[Mnist, list]:
    """Return MNIST as read-only views of the owner's blocks, and the blocks (keep them while in use).
    A worker must not register the blocks with the resource tracker: it shares the owner's, which
    would otherwise unlink them when the first worker exits."""
    blocks, views = [], {}
    register = resource_tracker.register
    resource_tracker.register = lambda *args, **kwargs: None   # type: ignore[assignment]
    try:
        for item in spec:
            block = shared_memory.SharedMemory(name=item["name"])
            view: np.ndarray = np.ndarray(tuple(item["shape"]), np.dtype(item["dtype"]), buffer=block.buf)
            view.flags.writeable = False
            blocks.append(block)
            views[item["field"]] = view
    finally:
        resource_tracker.register = register   # type: ignore[assignment]
    return _mnist(views, checksums), blocks


def _mnist(views: dict[str, np.ndarray], checksums: dict[str, str]) -> Mnist:
    return Mnist(Split(views["train.images"], views["train.labels"]),
                 Split(views["test.images"], views["test.labels"]), checksums)
