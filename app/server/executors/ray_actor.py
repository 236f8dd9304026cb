"""One run on a Ray node: the actor that trains it (made a remote class by RayExecutor, ray.py).

The Trainer runs on a thread of the actor; its reports wait in a bounded queue, each with a sequence
number, until the server acknowledges them: `poll(ack, after, wait)` forgets the reports up to `ack`
(the server has them on record) and returns those after `after` (the ones it has not read yet). A
report handed to a server that died before recording it is therefore handed again to the next server
(nothing is lost across a restart), and when MAX_QUEUED reports wait unacknowledged the training
waits for the server (backpressure, not loss, and bounded memory).

Controls are numbered. Ray runs a threaded actor's calls (max_concurrency > 1: poll waits, steps wait)
in no guaranteed order, so a pause sent just before a step, or a resume just after a pause, could be
applied in the wrong order (a step refused as "not paused", a resumed run left paused). Each control
carries the server's whole wish (pause, stop, pace) and its number; an older number arriving late is
ignored, and a step waits until the controls up to its own number are in force.

The lease: every call from a server (poll, control, steps, hello) renews it. An actor that no server
has called for `lease_seconds` (its server is gone and none came back) exits, so nothing trains for
nobody; its run reads `interrupted`, resumable from its last checkpoint, when a server returns.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from typing import Any

import numpy as np

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.mnist import Mnist
from app.training.trainer import Diverged, Progress, Trainer

from .control import NOT_STARTED, STEP_FIELDS, apply_changes, apply_controls

log = logging.getLogger(__name__)
CONTROL_WAIT = 30.0   # seconds a step waits for the controls sent before it (they are on their way)
MAX_QUEUED = 256      # reports waiting for the server (~25 s of them at 10 a second); then training waits
POLL_BATCH = 64       # reports handed over by one poll


class RunActor:
    def __init__(self, data: Mnist, config: dict[str, Any], params: np.ndarray | None, start_epoch: int,
                 report_seconds: float, pace: str | float, paused: bool, lease_seconds: float,
                 version: int = 0) -> None:
        from app.training.threads import pin_blas_threads
        pin_blas_threads()
        self._reports: deque[tuple[int, tuple]] = deque()
        self._numbers = itertools.count()
        self._changed = threading.Condition()
        self.trainer: Trainer | None = None
        self.state: dict[str, Any] = {"pace": pace, "pause": paused, "stop": False}
        self.version = version   # the number of the controls in force (the server's count)
        self._lock = threading.Lock()
        self._applied = threading.Condition(self._lock)
        self.lease = float(lease_seconds)
        self._called = time.monotonic()
        args = (data, config, params, start_epoch, report_seconds)
        threading.Thread(target=self._train, args=args, name="run-train", daemon=True).start()
        threading.Thread(target=self._keep_lease, name="run-lease", daemon=True).start()

    def _queue(self, message: tuple) -> None:
        with self._changed:
            self._changed.wait_for(lambda: len(self._reports) < MAX_QUEUED)
            self._reports.append((next(self._numbers), message))
            self._changed.notify_all()

    def _report(self, progress: Progress) -> None:
        self._queue(("progress", progress.metrics(), progress.snapshot.params))

    def _train(self, data: Mnist, config: dict[str, Any], params: np.ndarray | None, start_epoch: int,
               report_seconds: float) -> None:
        try:
            c = TrainConfig.from_dict(config)
            # A copy: arrays that come through Ray are read-only views of its object store.
            network = Network(c.sizes, c.activation, c.cost, params=np.array(params)) if params is not None \
                else None
            trainer = Trainer(c, data, self._report, report_seconds=report_seconds, network=network,
                              start_epoch=start_epoch)
            with self._lock:
                self.trainer = trainer
                apply_controls(trainer, self.state["pace"], self.state["pause"], self.state["stop"])
            trainer.run()
            self._queue(("end", "stopped" if trainer.stopped else "finished", ""))
        except Diverged as exc:
            self._queue(("end", "diverged", str(exc)))
        except Exception as exc:
            self._queue(("end", "failed", f"{type(exc).__name__}: {exc}"))
        finally:
            self.trainer = None

    def _keep_lease(self) -> None:
        check = min(self.lease / 4, 5.0)
        while not threading.Event().wait(check):
            if time.monotonic() - self._called > self.lease:
                log.warning("no server called for %.0f s: this run's actor ends", self.lease)
                os._exit(0)   # the queue may hold a training thread waiting for room; nobody will read it

    def _renew(self) -> None:
        self._called = time.monotonic()

    def poll(self, ack: int, after: int, wait: float) -> list[tuple[int, tuple]]:
        """Forget the reports numbered up to `ack` (the server has them on record) and return those
        numbered after `after` (the newest it has read), oldest first, waiting up to `wait` s for one."""
        self._renew()
        with self._changed:
            while self._reports and self._reports[0][0] <= ack:
                self._reports.popleft()
            self._changed.notify_all()
            self._changed.wait_for(lambda: bool(self._reports) and self._reports[-1][0] > after, timeout=wait)
            return [r for r in self._reports if r[0] > after][:POLL_BATCH]

    def hello(self) -> dict[str, Any]:
        """Return the controls in force, their number and who trains (for a server that reattaches)."""
        self._renew()
        with self._lock:
            return {**self.state, "version": self.version, "pid": os.getpid()}

    def control(self, wish: dict[str, Any], version: int) -> None:
        """Put the server's controls `wish` ({"pause", "stop", "pace"}) numbered `version` in force,
        unless newer ones already are (this call was overtaken)."""
        self._renew()
        with self._applied:
            if version <= self.version:
                return
            old, self.version = dict(self.state), version
            self.state.update(pace=wish["pace"], pause=wish["pause"], stop=old["stop"] or wish["stop"])
            if self.trainer is not None:
                apply_changes(self.trainer, old, self.state)
            self._applied.notify_all()

    def steps(self, n: int, version: int) -> dict[str, Any]:
        """Take `n` single steps once the controls numbered up to `version` (the pause) are in force."""
        self._renew()
        with self._applied:
            self._applied.wait_for(lambda: self.version >= version, timeout=CONTROL_WAIT)
            trainer = self.trainer
        if trainer is None:
            return {"error": NOT_STARTED, "taken": 0}
        request = trainer.request_steps(n)
        request.done.wait()
        return {**{k: getattr(request, k) for k in STEP_FIELDS}, "step": trainer.step}

    def pid(self) -> int:
        return os.getpid()   # an onlooker's question: it does not renew the lease

    def node(self) -> str:
        import ray
        return ray.get_runtime_context().get_node_id()
