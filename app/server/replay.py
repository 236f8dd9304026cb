"""A run's replay: snapshots of its weights at log-spaced moments, bounded in memory and on disk.

A snapshot is kept at the first report, then each time examples_seen has grown by GROWTH, at each
epoch end and at the end. At most MAX_SNAPSHOTS, and at most MAX_BYTES of weights (float32) per run:
when either is exceeded, every other snapshot between the first and the newest is dropped, so the
spacing stays roughly logarithmic. A snapshot keeps its index for as long as it exists.

The snapshots are saved beside the run's checkpoint as <run>.replay.npz (replayfile.py), written
atomically, so an ended run can be replayed after a restart. A running run keeps its snapshots' weights
in memory (they are being written); once its run has ended and they are safely in that file, the
replay lets them go (`release`) and keeps only the list (indices and metrics), reading one snapshot's
weights back from the file when it is asked for. A thousand ended runs then cost their lists, not
their weights.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.nn.network import Network
from app.training.trainer import Progress

from . import replayfile
from .storage import StorageError

GROWTH = 1.25
MAX_SNAPSHOTS = 64
MAX_BYTES = 32 * 2**20
META_KEYS = ("step", "examples_seen", "epoch", "probe_accuracy", "probe_cost", "test_accuracy")
log = logging.getLogger(__name__)
_tokens = itertools.count()   # names a replay's weights in the shared cache while they are on disk only


@dataclass(frozen=True)
class Snapshot:
    index: int
    meta: dict[str, Any]
    net: Network


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not np.isfinite(value) else value


class Replay:
    def __init__(self) -> None:
        self._kept: list[tuple[int, dict[str, Any]]] = []   # (index, meta) of each snapshot, oldest first
        self._nets: dict[int, Network] = {}      # the kept snapshots' weights, unless released to disk
        self._next_index = 0
        self._lock = threading.Lock()
        self._writing = threading.Lock()         # one save at a time: the file is the one marked saved
        self._version = self._saved = 0          # changes made; the change the file holds
        self._file: Path | None = None           # where the snapshots were saved (or read from)
        self._token: int | None = None           # set while the weights are in the file only

    @property
    def dirty(self) -> bool:
        """Whether the snapshots changed since the last save."""
        return self._version != self._saved

    def limit(self, net: Network) -> int:
        """Return how many snapshots of this network fit the bounds (at least 2: first and last)."""
        return max(2, min(MAX_SNAPSHOTS, MAX_BYTES // max(net.params.nbytes, 1)))

    def offer(self, progress: Progress) -> bool:
        """Keep a snapshot of this report if it is due; return whether it was kept."""
        with self._lock:
            self._wake()
            last = self._kept[-1][1] if self._kept else None
            seen = progress.examples_seen
            due = (last is None or progress.final or progress.epoch_end
                   or seen >= max(last["examples_seen"] * GROWTH, last["examples_seen"] + 1))
            if not due or (last is not None and last["step"] == progress.step):
                return False
            self._kept.append((self._next_index, {k: _finite(getattr(progress, k)) for k in META_KEYS}))
            self._nets[self._next_index] = progress.snapshot
            self._next_index += 1
            while len(self._kept) > self.limit(progress.snapshot):
                self._thin()
            self._version += 1
            return True

    def _thin(self) -> None:
        """Drop every other snapshot between the first and the newest."""
        kept = self._kept
        self._keep([s for i, s in enumerate(kept) if i == 0 or i == len(kept) - 1 or i % 2 == 0])

    def _keep(self, kept: list[tuple[int, dict[str, Any]]]) -> None:
        self._kept, self._nets = kept, {i: self._nets[i] for i, _ in kept}

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"index": i, **meta} for i, meta in self._kept]

    def get(self, index: int) -> Snapshot:
        """Return the snapshot with this index, or raise KeyError saying which ones exist (StorageError,
        503, if its weights are on disk and cannot be read back)."""
        with self._lock:
            meta = next((m for i, m in self._kept if i == index), None)
            net, file, token = self._nets.get(index), self._file, self._token
            have = [i for i, _ in self._kept]
        if meta is None:
            raise KeyError(f"no snapshot {index}; this run has {len(have)} snapshots"
                           + (f" (indices {have[0]} to {have[-1]})" if have else "")
                           + "; GET /api/runs/{id}/snapshots lists them")
        if net is None and file is not None and token is not None:
            net = self._read(file, token, index)
        assert net is not None, "a kept snapshot has its weights in memory or in its file"
        return Snapshot(index, meta, net)

    @staticmethod
    def _read(file: Path, token: int, index: int) -> Network:
        """Return one snapshot's network from the file, through the cache every run shares."""
        net = replayfile.CACHE.get((token, index))
        if net is None:
            try:
                header, row = replayfile.read_row(file, index, MAX_SNAPSHOTS)
                net = Network(header["sizes"], header["activation"], header["cost"], params=row)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.error("snapshot %d unreadable: %s", index, exc)
                raise StorageError(f"snapshot {index}'s weights could not be read back from {file} ({exc}); "
                                   "the run's latest weights still can (leave out ?snapshot)", 503) from None
            replayfile.CACHE.put((token, index), net)
        return net

    def drop_after(self, epoch: float) -> None:
        """Forget snapshots beyond `epoch` (a resumed run trains from there again)."""
        with self._lock:
            self._wake()
            self._keep([(i, m) for i, m in self._kept if m["epoch"] <= epoch + 1e-9])
            self._version += 1

    # Disk ----------------------------------------------------------------------------------------
    def save(self, path: Path, extra: dict[str, Any] | None = None) -> None:
        """Write the snapshots (and `extra`, JSON) to `path` atomically (a temporary file, then a rename)."""
        with self._writing:
            with self._lock:
                if self._token is not None and path == self._file:
                    return   # released: the file holds them already
                self._wake()
                kept, nets, version = list(self._kept), dict(self._nets), self._version
            if not kept:   # all dropped (a run resumed from its start): no file, not an old one
                path.unlink(missing_ok=True)
                with self._lock:
                    self._saved, self._file = version, None
                return
            net = nets[kept[0][0]]
            header = {"sizes": net.sizes, "activation": net.activation.name, "cost": net.cost.name,
                      "indices": [i for i, _ in kept], "meta": [m for _, m in kept],
                      "next_index": self._next_index, "extra": extra or {}}
            replayfile.write(path, header, np.stack([nets[i].params.astype(np.float32) for i, _ in kept]))
            with self._lock:
                self._saved, self._file = version, path

    def release(self) -> bool:
        """Let the weights go if the file holds every snapshot as it is now (an ended run's replay);
        return whether they are on disk only. A replay never saved, or changed since, keeps them."""
        with self._lock:
            if self._token is None and self._file is not None and self._kept and not self.dirty:
                self._nets, self._token = {}, next(_tokens)
            return self._token is not None

    def forget(self) -> None:
        """Let go of what the shared cache holds of this replay (its run is deleted)."""
        with self._lock:
            if self._token is not None:
                replayfile.CACHE.drop(self._token)

    def _wake(self) -> None:
        """Read the weights back into memory (lock held): the run trains on and its replay changes.
        A file that cannot be read any more leaves the replay empty, as at a start that skipped it."""
        if self._token is None or self._file is None:
            return
        self._token = None
        try:
            header, params = replayfile.read(self._file, MAX_SNAPSHOTS)
            rows = dict(zip(header["indices"], params, strict=True))
            spec = header["sizes"], header["activation"], header["cost"]
            self._nets = {i: Network(*spec, params=rows[i]) for i, _ in self._kept}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("replay %s unreadable, its snapshots are dropped: %s", self._file, exc)
            self._keep([])
            self._version += 1

    def load(self, path: Path) -> dict[str, Any]:
        """Read snapshots saved by save() (no pickle), keeping their weights on disk, and return its
        `extra`; raise ValueError if the file is not one."""
        header, params = replayfile.read(path, MAX_SNAPSHOTS)
        if len(params):   # the network the rows make (a file of other sizes is refused here)
            Network(header["sizes"], header["activation"], header["cost"], params=params[0])
        kept = [(int(i), dict(m)) for i, m in zip(header["indices"], header["meta"], strict=True)]
        with self._lock:
            self._kept, self._nets, self._next_index = kept, {}, int(header["next_index"])
            self._file, self._token, self._saved = path, next(_tokens), self._version
        extra = header.get("extra")
        return extra if isinstance(extra, dict) else {}
