"""The Ray executor: each run trains in a Ray actor on a Ray cluster (`serve --ray ADDRESS`).

MNIST goes into the cluster's object store once (`ray.put`); every actor reads it from there (on its
node, zero-copy). The actor trains on a thread of its own and queues its reports; the server's run
thread fetches them in order (RayTraining.run(), like the local executor's pipe), and forwards the
controls as actor calls. The server stays the only writer of the state folder. An actor that dies
(ray.kill, its node lost) makes its run `interrupted`, resumable from its last checkpoint. Actors are
not detached: a restarted server finds its runs `interrupted`, as with the other executors.
Needs the optional extra `cluster` (`pip install -e '.[cluster]'`).
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.mnist import Mnist
from app.training.trainer import Diverged, Progress, StepRequest, Trainer

from . import RunFailed, WorkerLost

POLL_SECONDS = 1.0
NAMESPACE = "digit-studio"
STEP_FIELDS = ("taken", "examples_seen_before", "batch_cost_before", "batch_cost_after", "w1_before",
               "w1_after", "error")


class RunActor:
    """One run on a Ray node (made a remote class by RayExecutor)."""

    def __init__(self, data: Mnist, config: dict[str, Any], params: np.ndarray | None, start_epoch: int,
                 report_seconds: float, pace: str | float, paused: bool) -> None:
        from app.training.threads import pin_blas_threads
        pin_blas_threads()
        self.reports: queue.Queue[tuple] = queue.Queue(maxsize=256)
        self.trainer: Trainer | None = None
        self.state: dict[str, Any] = {"pace": pace, "pause": paused, "stop": False}
        self._lock = threading.Lock()
        args = (data, config, params, start_epoch, report_seconds)
        threading.Thread(target=self._train, args=args, daemon=True).start()

    def _report(self, progress: Progress) -> None:
        self.reports.put(("progress", progress.metrics(), progress.snapshot.params))

    def _train(self, data: Mnist, config: dict[str, Any], params: np.ndarray | None, start_epoch: int,
               report_seconds: float) -> None:
        try:
            c = TrainConfig.from_dict(config)
            network = Network(c.sizes, c.activation, c.cost, params=params) if params is not None else None
            trainer = Trainer(c, data, self._report, report_seconds=report_seconds, network=network,
                              start_epoch=start_epoch)
            with self._lock:
                self.trainer = trainer
                trainer.set_pace(self.state["pace"])
                if self.state["pause"]:
                    trainer.pause()
                if self.state["stop"]:
                    trainer.stop()
            trainer.run()
            self.reports.put(("end", "stopped" if trainer.stopped else "finished", ""))
        except Diverged as exc:
            self.reports.put(("end", "diverged", str(exc)))
        except Exception as exc:
            self.reports.put(("end", "failed", f"{type(exc).__name__}: {exc}"))
        finally:
            self.trainer = None

    def poll(self, wait: float) -> list[tuple]:
        """Return the reports queued since the last poll (waiting up to `wait` s for the first)."""
        try:
            out = [self.reports.get(timeout=wait)]
        except queue.Empty:
            return []
        while len(out) < 64:
            try:
                out.append(self.reports.get_nowait())
            except queue.Empty:
                break
        return out

    def control(self, kind: str, value: Any = None) -> None:
        with self._lock:
            if kind == "pace":
                self.state["pace"] = value
            else:
                self.state["pause"] = kind == "pause" or (self.state["pause"] and kind != "resume")
                self.state["stop"] = self.state["stop"] or kind == "stop"
            if self.trainer is not None:
                if kind == "pace":
                    self.trainer.set_pace(value)
                else:
                    getattr(self.trainer, kind)()

    def steps(self, n: int) -> dict[str, Any]:
        trainer = self.trainer
        if trainer is None:
            return {"error": "the run has not started training yet; try again shortly", "taken": 0}
        request = trainer.request_steps(n)
        request.done.wait()
        return {**{k: getattr(request, k) for k in STEP_FIELDS}, "step": trainer.step}

    def pid(self) -> int:
        import os
        return os.getpid()

    def node(self) -> str:
        import ray
        return ray.get_runtime_context().get_node_id()


class RayExecutor:
    name = "ray"

    def __init__(self, data: Callable[[], Mnist], address: str):
        import ray
        self._ray = ray
        self._load = data
        self.address = address
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        self._remote = ray.remote(num_cpus=1, max_concurrency=4)(RunActor)  # type: ignore[call-overload]
        self._data_ref: Any = None
        self._lock = threading.Lock()
        self.actors: list[Any] = []   # of the runs training now
        self._jobs = itertools.count(1)

    def data_ref(self) -> Any:
        with self._lock:
            if self._data_ref is None:
                self._data_ref = self._ray.put(self._load())
            return self._data_ref

    def start(self, config: TrainConfig, callback: Callable[[Progress], None], report_seconds: float,
              network: Network | None, start_epoch: int, label: str = "") -> RayTraining:
        return RayTraining(self, config, callback, report_seconds, network, start_epoch, label)

    def close(self) -> None:
        for actor in list(self.actors):
            self._ray.kill(actor)
        self._ray.shutdown()


class RayTraining:
    """One run in a Ray actor: the Trainer's controls as actor calls; run() fetches its reports."""

    def __init__(self, executor: RayExecutor, config: TrainConfig, callback: Callable[[Progress], None],
                 report_seconds: float, network: Network | None, start_epoch: int, label: str = ""):
        self._executor, self.config, self.callback = executor, config, callback
        # Named (in the "digit-studio" namespace) so an operator can find a run's actor: ray.get_actor
        self.name = f"digit-studio-{label or 'run'}-{next(executor._jobs)}"
        self._args = (report_seconds, network, start_epoch)
        self.actor: Any = None
        self._paused = self._stopped = False
        self.pace: str | float = config.pace
        self.step = 0
        self.outcome: str | None = None
        self._lock = threading.Lock()
        self._published = threading.Condition()   # a step's answer waits for its report to be published

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped or self.outcome == "stopped"

    def _control(self, kind: str, value: Any = None) -> None:
        with self._lock:
            if self.actor is not None:
                self.actor.control.remote(kind, value)

    def pause(self) -> None:
        self._paused = True
        self._control("pause")

    def resume(self) -> None:
        self._paused = False
        self._control("resume")

    def stop(self) -> None:
        self._stopped = True
        self._control("stop")

    def set_pace(self, pace: str | float) -> None:
        self.pace = pace
        self._control("pace", pace)

    def request_steps(self, steps: int) -> StepRequest:
        request = StepRequest(steps)
        if not self._paused or self.actor is None:
            request.error = "pause the run first: only a paused run takes single steps"
            request.done.set()
            return request
        ref = self.actor.steps.remote(steps)

        def wait() -> None:
            try:
                answer = self._executor._ray.get(ref)
                step = answer.pop("step")
                for key, value in answer.items():
                    setattr(request, key, value)
                # Reports come by another road (poll): answer once the step's own is published.
                with self._published:
                    self._published.wait_for(lambda: self.step >= step or self.outcome is not None
                                             or self.actor is None, timeout=30)
            except Exception as exc:   # the actor died meanwhile
                request.error = f"the run's actor ended: {type(exc).__name__}"
            request.done.set()
        threading.Thread(target=wait, daemon=True).start()
        return request

    def run(self) -> None:
        ray, c = self._executor._ray, self.config
        report_seconds, network, start_epoch = self._args
        params = network.params if network is not None else None
        with self._lock:
            actor_class = self._executor._remote.options(name=self.name, namespace=NAMESPACE)
            self.actor = actor_class.remote(self._executor.data_ref(), c.to_dict(), params,
                                                       start_epoch, report_seconds, self.pace, self._paused)
            self._executor.actors.append(self.actor)
            if self._stopped:
                self.actor.control.remote("stop")
        try:
            while True:
                try:
                    messages = ray.get(self.actor.poll.remote(POLL_SECONDS))
                except ray.exceptions.RayActorError as exc:
                    raise WorkerLost(f"the Ray actor training this run ended ({exc.__class__.__name__}); "
                                     "resume the run to continue from its last checkpoint") from None
                for message in messages:
                    if message[0] == "progress":
                        snapshot = Network(c.sizes, c.activation, c.cost, params=message[2])
                        progress = Progress(snapshot=snapshot, **message[1])
                        self.callback(progress)
                        with self._published:
                            self.step = progress.step
                            self._published.notify_all()
                    else:
                        self.outcome = message[1]
                        if self.outcome == "diverged":
                            raise Diverged(message[2])
                        if self.outcome == "failed":
                            raise RunFailed(message[2])
                        return
        finally:
            with self._lock:
                actor, self.actor = self.actor, None
            with self._published:   # a step still waiting for its report hears the end
                self._published.notify_all()
            if actor in self._executor.actors:
                self._executor.actors.remove(actor)
            ray.kill(actor)
