"""The local executor: runs train in a pool of worker processes (worker.py), MNIST shared (shared.py).

Each worker takes one run at a time and is used again for the next. The manager's run thread calls
ProcessTraining.run(), which reads the worker's reports off the pipe and hands them to the callback
(as the Trainer would on its own thread), until the worker says the run ended. If the pipe closes
first, the worker died (kill -9, out of memory): run() raises WorkerLost with its pid and exit code,
and the pool starts a fresh worker for the next run. Workers are started with 'spawn': a fork of a
threaded web server could copy a lock held by another thread.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing as mp
import signal
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.mnist import Mnist
from app.training.trainer import Progress, StepRequest

from . import WorkerLost
from .control import NOT_STARTED, RemoteTraining
from .shared import SharedMnist
from .worker import main as worker_main

log = logging.getLogger(__name__)
JOIN_SECONDS = 5.0


class WorkerProcess:
    """One worker process and the server's end of its pipe."""

    def __init__(self, context: Any, shared: SharedMnist):
        self.conn, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(target=worker_main, name="digit-studio-worker",
                                                    args=(child, shared.spec, shared.checksums), daemon=True)
        self.process.start()
        child.close()
        self._send_lock = threading.Lock()
        self.busy = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive() and not self.conn.closed

    def send(self, message: tuple) -> bool:
        """Send a message; False if the worker is gone (its run learns so from run())."""
        with self._send_lock:
            try:
                self.conn.send(message)
                return True
            except (OSError, ValueError):
                return False

    def why_ended(self) -> str:
        self.process.join(JOIN_SECONDS)
        code = self.process.exitcode
        if code is None:
            return "its pipe closed"
        if code < 0:
            try:
                return f"it was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"it was killed by signal {-code}"
        return f"it exited with code {code}"

    def close(self) -> None:
        self.send(("exit",))
        self.process.join(JOIN_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(JOIN_SECONDS)
        self.conn.close()


class ProcessExecutor:
    name = "process"
    survives_restart = False   # its runs end with the server (interrupted at the next start)

    def __init__(self, data: Callable[[], Mnist], workers: int):
        self._load = data
        self.size = max(int(workers), 1)
        self._context = mp.get_context("spawn")
        self._shared: SharedMnist | None = None
        self._workers: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._jobs = itertools.count(1)
        self._closed = False

    def shared(self) -> SharedMnist:
        with self._lock:
            if self._shared is None:
                self._shared = SharedMnist(self._load())
            return self._shared

    def shared_data(self) -> Mnist:
        return self.shared().data

    @property
    def problems(self) -> list[str]:
        """What the runs make do with (GET /api/health): MNIST not in shared memory, and why."""
        shared = self._shared
        return [shared.warning] if shared is not None and shared.warning else []

    def pids(self) -> list[int]:
        """Return the pids of the live workers (for tests and health)."""
        with self._lock:
            return [w.pid for w in self._workers if w.pid is not None and w.alive()]

    def _acquire(self) -> WorkerProcess:
        shared = self.shared()
        with self._lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            self._workers = [w for w in self._workers if w.alive() or w.busy]
            for worker in self._workers:
                if not worker.busy:
                    worker.busy = True
                    return worker
            worker = WorkerProcess(self._context, shared)
            worker.busy = True
            self._workers.append(worker)
            return worker

    def _release(self, worker: WorkerProcess) -> None:
        """Take a worker back after its run; one too many (or a dead one) is ended."""
        with self._lock:
            worker.busy = False
            idle = [w for w in self._workers if not w.busy and w.alive()]
            if worker.alive() and len(idle) <= self.size and not self._closed:
                return
            self._workers.remove(worker)
        worker.close()

    def start(self, config: TrainConfig, callback: Callable[[Progress], None], report_seconds: float,
              network: Network | None, start_epoch: int, label: str = "") -> ProcessTraining:
        return ProcessTraining(self, config, callback, report_seconds, network, start_epoch)

    def detach(self, training: object) -> bool:
        return False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()
        if self._shared is not None:
            self._shared.close()
            self._shared = None


class ProcessTraining(RemoteTraining):
    """One run in a worker: the Trainer's controls, forwarded; its reports, read back by run()."""

    def __init__(self, executor: ProcessExecutor, config: TrainConfig, callback: Callable[[Progress], None],
                 report_seconds: float, network: Network | None, start_epoch: int):
        super().__init__(config)
        self._executor, self.callback = executor, callback
        self._report_seconds, self._network, self._start_epoch = report_seconds, network, start_epoch
        self.job = next(executor._jobs)
        self.worker: WorkerProcess | None = None
        self._steps: StepRequest | None = None

    @property
    def pid(self) -> int | None:
        return self.worker.pid if self.worker is not None else None

    def _send(self, kind: str, value: Any = None) -> None:
        with self._lock:
            if self.worker is not None:
                self.worker.send((kind, self.job) if kind != "pace" else (kind, self.job, value))

    def request_steps(self, steps: int) -> StepRequest:
        request = StepRequest(steps)
        with self._lock:
            if not self._paused or self._stopped or self.worker is None:
                request.error = (NOT_STARTED
                                 if self.worker is None and self._paused and not self._stopped
                                 else "pause the run first: only a paused run takes single steps")
                request.done.set()
                return request
            self._steps = request
            self.worker.send(("steps", self.job, steps))
        return request

    def _answer_steps(self, fields: dict[str, Any]) -> None:
        with self._lock:
            request, self._steps = self._steps, None
        if request is not None:
            for key, value in fields.items():
                setattr(request, key, value)
            request.done.set()

    def run(self) -> None:
        """Train in a worker until the run ends; raise Diverged, RunFailed or WorkerLost as it ended."""
        worker = self._executor._acquire()
        params = self._network.params if self._network is not None else None
        with self._lock:
            self.worker = worker
            worker.send(("start", self.job, self.config.to_dict(), params, self._start_epoch,
                         self._report_seconds, self.pace, self._paused, self._stopped))
        try:
            self._read(worker)
        finally:
            with self._lock:
                self.worker = None
            if self.outcome is None and worker.alive():   # the reading failed: the worker must not
                worker.process.kill()                       # train on for nobody
                worker.process.join(JOIN_SECONDS)
            self._answer_steps({"error": "the run ended before taking every step"})
            self._executor._release(worker)
            self._network = None

    def _read(self, worker: WorkerProcess) -> None:
        while True:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError) as exc:
                why = worker.why_ended()
                log.error("worker %s of a run ended: %s (%s)", worker.pid, why, exc)
                raise WorkerLost(f"the worker process (pid {worker.pid}) training this run ended: {why}; "
                                 "resume the run to continue from its last checkpoint") from None
            kind, job = message[0], message[1]
            if job != self.job:
                continue
            if kind == "progress":
                progress = self._progress(message[2], message[3])
                self.step = progress.step
                self.callback(progress)
            elif kind == "steps":
                self._answer_steps(message[2])
            elif kind == "end":
                self._end(message[2], message[3])
                return
