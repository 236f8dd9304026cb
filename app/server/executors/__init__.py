"""Where a run's training happens: the interface between the run manager and the training loop.

The manager asks an Executor to `start` a run and gets back a Training: a handle with the Trainer's
own controls (pause, resume, stop, set_pace, request_steps) and `run()`, which blocks until the
training ends and hands every report (metrics and a weight snapshot) to the callback on the calling
thread, in order. Two executors keep that promise:

- `process` (local.py, the default): a pool of worker processes (`--max-runs` of them) that share MNIST
  through shared memory; reports come back over a pipe, so training no longer shares the web server's
  GIL, and a worker that dies takes only its own run with it.
- `ray` (ray.py): each run a Ray actor on a Ray cluster, MNIST in its object store once. With a state
  folder its actors outlive the server: `survives_restart`, `detach` at shutdown, `reattach` at start.
- `thread` (thread.py): the Trainer on a thread of the server's own process, as before; the reference
  the process executor is tested against, and the choice for a one-core machine.

Checkpoints, the database and every other write stay in the server process (runs.py, archive.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.mnist import Mnist
from app.training.trainer import Progress, StepRequest

EXECUTORS = ("process", "thread", "ray")
DEFAULT_EXECUTOR = "process"


def default_executor() -> str:
    """Return where runs train unless told: $DIGIT_STUDIO_EXECUTOR, else DEFAULT_EXECUTOR."""
    return os.environ.get("DIGIT_STUDIO_EXECUTOR") or DEFAULT_EXECUTOR


class RunFailed(Exception):  # noqa: N818 (reads as what happened, like Diverged)
    """The training raised an error in its worker; the message is `Type: what it said`."""


class WorkerLost(Exception):  # noqa: N818 (reads as what happened)
    """The worker process training this run ended without a word (killed, out of memory)."""


class Training(Protocol):
    """One run's training as the manager holds it (a Trainer is one)."""

    @property
    def paused(self) -> bool: ...
    @property
    def stopped(self) -> bool: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def set_pace(self, pace: str | float) -> None: ...
    def request_steps(self, steps: int) -> StepRequest: ...
    def run(self) -> object: ...


class Executor(Protocol):
    name: str
    survives_restart: bool   # its runs train on while no server runs, and a new one takes them back

    def detach(self, training: Training) -> bool:
        """Let `training` go on without this server (it stops); False: it must stop with the server."""
        ...

    def start(self, config: TrainConfig, callback: Callable[[Progress], None], report_seconds: float,
              network: Network | None, start_epoch: int, label: str = "") -> Training: ...

    def shared_data(self) -> Mnist | None:
        """Make ready the MNIST its runs share and return it if the server may read that instead of
        a copy of its own (the process executor's shared memory); None: the server keeps its copy."""
        ...

    def close(self) -> None: ...


def make_executor(kind: str, data: Callable[[], Mnist], workers: int, ray_address: str | None = None,
                  studio: str | None = None) -> Executor:
    """Return the executor named `kind` ("process", "thread" or "ray", on the cluster at `ray_address`,
    its actors detached under the id `studio` if given); `data` loads MNIST when first needed."""
    if kind == "thread":
        from .thread import ThreadExecutor
        return ThreadExecutor(data)
    if kind == "process":
        from .local import ProcessExecutor
        return ProcessExecutor(data, workers)
    if kind == "ray":
        if not ray_address:
            raise ValueError("the ray executor needs the address of a Ray cluster (--ray ADDRESS)")
        from .ray import RayExecutor
        return RayExecutor(data, ray_address, studio)
    raise ValueError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
