"""What the server's runs train with: MNIST, the probe's images and the executor, each made once, when
first needed (a server that never trains loads no data and starts no worker).

MNIST is read once for all runs. Once the process executor has shared it (shared memory, or files on
disk when /dev/shm is too small: executors/shared.py), the server's own reads (the probe, the lessons,
evaluation) use the shared pages too and the loaded copy is let go: one copy on the machine, not two.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from app.training.mnist import Mnist
from app.training.trainer import probe_set

from .executors import EXECUTORS, Executor, make_executor
from .reattach import studio_id
from .store import Store


class Workbench:
    def __init__(self, kind: str, workers: int, load: Callable[[], Mnist], ray_address: str | None,
                 store: Store | None):
        if kind not in EXECUTORS:
            raise ValueError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
        self.kind, self.workers, self.ray_address = kind, max(workers, 1), ray_address
        self._load, self._store = load, store
        self._data: Mnist | None = None
        self._probe_x: np.ndarray | None = None
        self.made: Executor | None = None   # the executor, once made
        self._lock = threading.Lock()

    def data(self) -> Mnist:
        """Return MNIST, loaded (and checksummed) once for all runs; once the worker processes share
        it, the shared pages."""
        with self._lock:
            if self._data is None:
                self._data = self._load()
            return self._data

    def share_data(self) -> None:
        """Read MNIST from the executor's shared copy from now on, if it has one (letting ours go)."""
        shared = self.executor().shared_data()
        if shared is not None:
            with self._lock:
                self._data = shared

    @property
    def problems(self) -> list[str]:
        """What the executor had to make do with (GET /api/health), e.g. too small a /dev/shm."""
        return list(getattr(self.made, "problems", []))

    def executor(self) -> Executor:
        """Return the executor runs train in; on Ray with a state folder, its actors are named after
        the folder's id, so that they outlive this server (reattach.py)."""
        with self._lock:
            if self.made is None:
                ray = self.kind == "ray"
                studio = studio_id(self._store) if self._store is not None and ray else None
                self.made = make_executor(self.kind, self.data, self.workers, self.ray_address, studio)
            return self.made

    def probe_x(self) -> np.ndarray:
        """Return the probe's images (stuck.check), one copy for every run."""
        data = self.data()
        with self._lock:
            if self._probe_x is None:
                self._probe_x = probe_set(data.test.images, data.test.labels)[0]
            return self._probe_x
