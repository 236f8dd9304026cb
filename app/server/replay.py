"""A run's replay: snapshots of its weights at log-spaced moments, bounded in memory and on disk.

A snapshot is kept at the first report, then each time examples_seen has grown by GROWTH, at each
epoch end and at the end. At most MAX_SNAPSHOTS, and at most MAX_BYTES of weights (float32) per run:
when either is exceeded, every other snapshot between the first and the newest is dropped, so the
spacing stays roughly logarithmic. A snapshot keeps its index for as long as it exists.

The snapshots are saved beside the run's checkpoint as <run>.replay.npz (arrays only, no pickle),
written atomically, so an ended run can be replayed after a restart.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.atomicfile import atomic_write
from app.nn.network import Network
from app.training.trainer import Progress

GROWTH = 1.25
MAX_SNAPSHOTS = 64
MAX_BYTES = 32 * 2**20
META_KEYS = ("step", "examples_seen", "epoch", "probe_accuracy", "probe_cost", "test_accuracy")


@dataclass(frozen=True)
class Snapshot:
    index: int
    meta: dict[str, Any]
    net: Network


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not np.isfinite(value) else value


class Replay:
    def __init__(self) -> None:
        self._snapshots: list[Snapshot] = []
        self._next_index = 0
        self._lock = threading.Lock()
        self.dirty = False       # changed since the last save

    def limit(self, net: Network) -> int:
        """Return how many snapshots of this network fit the bounds (at least 2: first and last)."""
        return max(2, min(MAX_SNAPSHOTS, MAX_BYTES // max(net.params.nbytes, 1)))

    def offer(self, progress: Progress) -> bool:
        """Keep a snapshot of this report if it is due; return whether it was kept."""
        with self._lock:
            last = self._snapshots[-1].meta if self._snapshots else None
            seen = progress.examples_seen
            due = (last is None or progress.final or progress.epoch_end
                   or seen >= max(last["examples_seen"] * GROWTH, last["examples_seen"] + 1))
            if not due or (last is not None and last["step"] == progress.step):
                return False
            meta = {k: _finite(getattr(progress, k)) for k in META_KEYS}
            self._snapshots.append(Snapshot(self._next_index, meta, progress.snapshot))
            self._next_index += 1
            while len(self._snapshots) > self.limit(progress.snapshot):
                self._thin()
            self.dirty = True
            return True

    def _thin(self) -> None:
        """Drop every other snapshot between the first and the newest."""
        kept = self._snapshots
        self._snapshots = [s for i, s in enumerate(kept) if i == 0 or i == len(kept) - 1 or i % 2 == 0]

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"index": s.index, **s.meta} for s in self._snapshots]

    def get(self, index: int) -> Snapshot:
        """Return the snapshot with this index, or raise KeyError saying which ones exist."""
        with self._lock:
            for s in self._snapshots:
                if s.index == index:
                    return s
            have = [s.index for s in self._snapshots]
        raise KeyError(f"no snapshot {index}; this run has {len(have)} snapshots"
                       + (f" (indices {have[0]} to {have[-1]})" if have else "")
                       + "; GET /api/runs/{id}/snapshots lists them")

    def drop_after(self, epoch: float) -> None:
        """Forget snapshots beyond `epoch` (a resumed run trains from there again)."""
        with self._lock:
            self._snapshots = [s for s in self._snapshots if s.meta["epoch"] <= epoch + 1e-9]
            self.dirty = True

    # Disk ----------------------------------------------------------------------------------------
    def save(self, path: Path, extra: dict[str, Any] | None = None) -> None:
        """Write the snapshots (and `extra`, JSON) to `path` atomically (a temporary file, then a rename)."""
        with self._lock:
            snapshots, self.dirty = list(self._snapshots), False
        if not snapshots:
            return
        net = snapshots[0].net
        header = {"sizes": net.sizes, "activation": net.activation.name, "cost": net.cost.name,
                  "indices": [s.index for s in snapshots], "meta": [s.meta for s in snapshots],
                  "next_index": self._next_index, "extra": extra or {}}
        params = np.stack([s.net.params.astype(np.float32) for s in snapshots])
        # private: mkstemp's 0600, the mode replay files have always had
        atomic_write(path, lambda f: np.savez(f, params=params, header=np.array(json.dumps(header))),
                     private=True)

    def load(self, path: Path) -> dict[str, Any]:
        """Read snapshots saved by save() (no pickle) and return its `extra`; raise ValueError if the
        file is not one."""
        with np.load(path, allow_pickle=False) as f:
            header = json.loads(str(f["header"]))
            params = f["params"]
        sizes, indices, metas = header["sizes"], header["indices"], header["meta"]
        if params.ndim != 2 or len(params) != len(indices) or len(metas) != len(indices) \
                or len(indices) > MAX_SNAPSHOTS:
            raise ValueError(f"{path}: not a replay file of this version")
        nets = [Network(sizes, header["activation"], header["cost"], params=p) for p in params]
        with self._lock:
            self._snapshots = [Snapshot(int(i), dict(m), n)
                               for i, m, n in zip(indices, metas, nets, strict=True)]
            self._next_index = int(header["next_index"])
            self.dirty = False
        extra = header.get("extra")
        return extra if isinstance(extra, dict) else {}
