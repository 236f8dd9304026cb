"""The body of a worker process: train the runs the server sends, one at a time, and report back.

Messages are tuples over one duplex pipe between our own two processes. From the server:
("start", job, config dict, params or None, start_epoch, report_seconds, pace, paused, stopped),
("pause"|"resume"|"stop", job), ("pace", job, pace), ("steps", job, n) and ("exit",). To the server:
("progress", job, metrics, params), ("steps", job, fields), ("end", job, outcome, message).
A listener thread applies controls while the main thread trains; a control for a job that is not
the current one is ignored (it raced with that job's end). Everything the worker says goes through
one sender thread, in order, so training never waits for a busy server to read: when BACKLOG messages
are already waiting, a plain report (not an epoch end, the final one or a log-spaced milestone) is
dropped instead (a paused run's are always sent), as a reader that falls behind would skip it
anyway. The worker writes no file.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.mnist import Mnist
from app.training.threads import pin_blas_threads
from app.training.trainer import Diverged, Progress, StepRequest, Trainer

from .control import NOT_STARTED, STEP_FIELDS, apply_controls
from .shared import attach

BACKLOG = 4


@dataclass
class Job:
    number: int
    paused: bool = False
    stopped: bool = False
    pace: str | float = "full"
    trainer: Trainer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Worker:
    def __init__(self, conn: Connection, data: Mnist):
        self.conn, self.data = conn, data
        self.outbox: queue.Queue[tuple] = queue.Queue()
        self.jobs: queue.Queue[tuple | None] = queue.Queue()
        self.job: Job | None = None
        self.dropped = 0

    def send(self, message: tuple, droppable: bool = False) -> None:
        if droppable and self.outbox.qsize() >= BACKLOG:
            self.dropped += 1
            return
        self.outbox.put(message)

    def sender(self) -> None:
        """Sender thread: the only writer of the pipe."""
        while True:
            message = self.outbox.get()
            try:
                self.conn.send(message)
            except (OSError, ValueError):
                os._exit(0)   # the server is gone

    def listen(self) -> None:
        """Listener thread: read the server's messages until it says exit (or its end of the pipe closes)."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)   # the server is gone: nobody to train for
            kind = message[0]
            if kind == "exit":
                self.jobs.put(None)
                return
            if kind == "start":
                self.job = Job(message[1], paused=message[7], stopped=message[8], pace=message[6])
                self.jobs.put(message)
                continue
            job = self.job
            if job is None or job.number != message[1]:
                continue
            self.control(job, kind, message)

    def control(self, job: Job, kind: str, message: tuple) -> None:
        with job.lock:
            trainer = job.trainer
            if kind == "pause":
                job.paused = True
            elif kind == "resume":
                job.paused = False
            elif kind == "stop":
                job.stopped = True
            elif kind == "pace":
                job.pace = message[2]
            if trainer is None:
                if kind == "steps":
                    self.send(("steps", job.number, {"error": NOT_STARTED, "taken": 0}))
                return
            if kind == "pause":
                trainer.pause()
            elif kind == "resume":
                trainer.resume()
            elif kind == "stop":
                trainer.stop()
            elif kind == "pace":
                trainer.set_pace(job.pace)
            elif kind == "steps":
                request = trainer.request_steps(int(message[2]))
                threading.Thread(target=self.answer_steps, args=(job.number, request), daemon=True).start()

    def answer_steps(self, number: int, request: StepRequest) -> None:
        request.done.wait()
        self.send(("steps", number, {k: getattr(request, k) for k in STEP_FIELDS}))

    def train(self, message: tuple) -> None:
        _, number, config_dict, params, start_epoch, report_seconds = message[:6]
        job = self.job
        assert job is not None and job.number == number
        outcome, text = "finished", ""
        try:
            config = TrainConfig.from_dict(config_dict)
            network = None
            if params is not None:
                network = Network(config.sizes, config.activation, config.cost, params=np.asarray(params))

            def report(progress: Progress) -> None:
                # a paused run's reports (where it paused, what a step did) are few and awaited
                keep = progress.epoch_end or progress.final or progress.milestone or job.paused
                self.send(("progress", number, progress.metrics(), progress.snapshot.params), not keep)

            trainer = Trainer(config, self.data, report, report_seconds=report_seconds, network=network,
                              start_epoch=start_epoch)
            with job.lock:
                job.trainer = trainer
                apply_controls(trainer, job.pace, job.paused, job.stopped)
            trainer.run()
            outcome = "stopped" if trainer.stopped else "finished"
        except Diverged as exc:
            outcome, text = "diverged", str(exc)
        except Exception as exc:  # the run fails, the worker lives on for the next
            outcome, text = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            with job.lock:
                job.trainer = None    # the run's prepared data goes with it
        self.send(("end", number, outcome, text))


def main(conn: Connection, spec: list[dict[str, Any]], checksums: dict[str, str]) -> None:
    """Entry point of a worker process (multiprocessing, 'spawn' context)."""
    pin_blas_threads()
    data, blocks = attach(spec, checksums)
    worker = Worker(conn, data)
    threading.Thread(target=worker.listen, name="worker-listen", daemon=True).start()
    threading.Thread(target=worker.sender, name="worker-send", daemon=True).start()
    while (message := worker.jobs.get()) is not None:
        worker.train(message)
    del data
    for block in blocks:
        try:
            block.close()
        except BufferError:   # a view still alive at exit: the process ending frees it anyway
            pass
