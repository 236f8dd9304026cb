"""The Ray executor: each run trains in a Ray actor on a Ray cluster (`serve --ray ADDRESS`).

MNIST goes into the cluster's object store once (`ray.put`); every actor reads it from there (on its
node, zero-copy). The actor (ray_actor.py) trains on a thread of its own and queues its reports; the
server's run thread fetches them in order (RayTraining.run(), like the local executor's pipe), and
forwards the controls as actor calls. The server stays the only writer of the state folder. An actor
that dies (ray.kill, its node lost) makes its run `interrupted`, resumable from its last checkpoint.

A studio with a state folder outlives its own restarts: its actors are detached and named
`digit-studio-<studio id>-<run id>` in the namespace `digit-studio` (the studio id is kept in the
state folder), so a server that stops (SIGTERM, or kill -9) leaves them training and the next one finds
them (`reattach`) and reads on where the last left off. docs/scaling.md says what survives what.
Needs the optional extra `cluster` (`pip install -e '.[cluster]'`).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.mnist import Mnist
from app.training.trainer import Progress, StepRequest

from . import Training, WorkerLost
from .control import RemoteTraining
from .ray_actor import POLL_BATCH, RunActor

POLL_SECONDS = 1.0
NAMESPACE = "digit-studio"
LEASE_SECONDS = 300.0   # an actor that no server has called for this long stops and exits
NAME_TRIES = 40         # a stale actor's name is free again a moment after ray.kill
ACK_SECONDS = 3.0       # a report read is acknowledged this long after: its point is in SQLite by then
                        # (recorder.py writes points every second)


def lease_seconds() -> float:
    """Return the actors' lease: $DIGIT_STUDIO_RAY_LEASE seconds, else LEASE_SECONDS."""
    text = os.environ.get("DIGIT_STUDIO_RAY_LEASE")
    try:
        value = float(text) if text else LEASE_SECONDS
    except ValueError:
        raise ValueError(f"$DIGIT_STUDIO_RAY_LEASE must be a number of seconds, got {text!r}") from None
    if not 1 <= value <= 86_400:
        raise ValueError(f"$DIGIT_STUDIO_RAY_LEASE must be 1 to 86400 seconds, got {text!r}")
    return value


def reachable(address: str, seconds: float = 5.0) -> None:
    """Raise ConnectionError unless the cluster's head answers at `address` (host:port); ray.init itself
    would wait minutes for a head that is down, and the server with it."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():   # "auto" and the like: left to Ray
        return
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as exc:
        raise ConnectionError(f"cannot reach the Ray cluster at {address} ({exc}); is its head running "
                              "(ray start --head) and the address right?") from None


class RayExecutor:
    name = "ray"

    def __init__(self, data: Callable[[], Mnist], address: str, studio: str | None = None):
        """`studio`: this state folder's id; with it the actors are detached and outlive the server.
        Without (no state folder: nothing could reattach) they end with the server."""
        reachable(address)
        import ray
        self._ray = ray
        self._load = data
        self.address = address
        self.survives_restart = studio is not None
        self.prefix = f"digit-studio-{studio or secrets.token_hex(4)}-"
        self.lease = lease_seconds()
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        self._remote = ray.remote(num_cpus=1, max_concurrency=8)(RunActor)  # type: ignore[call-overload]
        self._data_ref: Any = None
        self._lock = threading.Lock()
        self.actors: list[Any] = []   # of the runs training now

    def data_ref(self) -> Any:
        with self._lock:
            if self._data_ref is None:
                self._data_ref = self._ray.put(self._load())
            return self._data_ref

    def ours(self) -> dict[str, str]:
        """Return {run id: actor name} of the live actors of this studio (of its state folder)."""
        found = {}
        for entry in self._ray.util.list_named_actors(all_namespaces=True):
            name = entry["name"]
            if entry["namespace"] == NAMESPACE and name.startswith(self.prefix):
                found[name[len(self.prefix):]] = name
        return found

    def find(self, run_id: str) -> Any:
        """Return the handle of the run's actor, or None if it has none."""
        try:
            return self._ray.get_actor(self.prefix + run_id, namespace=NAMESPACE)
        except ValueError:
            return None

    def kill(self, run_id: str) -> None:
        actor = self.find(run_id)
        if actor is not None:
            self._ray.kill(actor)

    def create(self, run_id: str, version: int, *args: Any) -> Any:
        """Start the run's actor; a stale one holding its name (left by a server that never came back
        to a run since resumed from its checkpoint) is ended first."""
        options: dict[str, Any] = {"name": self.prefix + run_id, "namespace": NAMESPACE}
        if self.survives_restart:
            options["lifetime"] = "detached"
        for _ in range(NAME_TRIES):
            try:
                actor = self._remote.options(**options).remote(*args, self.lease, version)
            except ValueError:   # the name is taken
                self.kill(run_id)
                time.sleep(0.25)
                continue
            with self._lock:
                self.actors.append(actor)
            return actor
        raise RuntimeError(f"the Ray actor name {self.prefix + run_id} stays taken; kill that actor")

    def forget(self, actor: Any, kill: bool) -> None:
        with self._lock:
            if actor in self.actors:
                self.actors.remove(actor)
        if kill:
            self._ray.kill(actor)

    def start(self, config: TrainConfig, callback: Callable[[Progress], None], report_seconds: float,
              network: Network | None, start_epoch: int, label: str = "") -> RayTraining:
        training = RayTraining(self, config, callback, label or secrets.token_hex(4))
        training.new = (report_seconds, network, start_epoch)
        return training

    def reattach(self, run_id: str, config: TrainConfig, callback: Callable[[Progress], None],
                 recorded: tuple[int, bool, bool]) -> RayTraining | None:
        """Return the run's training on its actor, still going, or None if the actor is gone.
        `recorded`: (step, epoch_end, final) of the run's newest report on record; the reports up to
        it are not published again."""
        actor = self.find(run_id)
        if actor is None:
            return None
        try:
            state = self._ray.get(actor.hello.remote(), timeout=60)
        except Exception:   # it died meanwhile, or does not answer: the run is interrupted
            return None
        training = RayTraining(self, config, callback, run_id, actor, recorded)
        training._paused, training._stopped, training.pace = state["pause"], state["stop"], state["pace"]
        training.version = state["version"]   # this server's controls go on from the last server's
        training.pid = state["pid"]
        with self._lock:
            self.actors.append(actor)
        return training

    def shared_data(self) -> None:
        return None   # the object store's copy is the actors'; the server keeps its own

    def detach(self, training: Training) -> bool:
        """Let a run's actor train on without this server; False if it must stop with the server."""
        if not self.survives_restart or not isinstance(training, RayTraining):
            return False
        training.detached = True
        return True

    def close(self) -> None:
        if not self.survives_restart:
            for actor in list(self.actors):
                self._ray.kill(actor)
        self._ray.shutdown()


class RayTraining(RemoteTraining):
    """One run in a Ray actor: the Trainer's controls as actor calls; run() fetches its reports."""

    def __init__(self, executor: RayExecutor, config: TrainConfig, callback: Callable[[Progress], None],
                 run_id: str, actor: Any = None, recorded: tuple[int, bool, bool] = (-1, False, False)):
        super().__init__(config)
        self._executor, self.callback, self.run_id = executor, callback, run_id
        self.new: tuple[float, Network | None, int] | None = None   # (report_seconds, weights, first epoch)
        self.actor = actor
        self.pid: int | None = None
        self.detached = False          # the server is stopping: run() returns, the actor trains on
        self._recorded = recorded
        self._read = -1                # number of the newest report read
        self._unacked: deque[tuple[int, float]] = deque()   # (number, when read) of those not acknowledged
        self._published = threading.Condition()   # a step's answer waits for its report to be published
        self.version = 0               # the number of the newest controls sent to the actor

    def _send(self, kind: str, value: Any = None) -> None:
        """Send the controls as they now stand (the flags already say `kind`), numbered: the actor may
        run its calls out of order and keeps the newest (ray_actor.py)."""
        with self._lock:
            self.version += 1
            if self.actor is not None:
                wish = {"pause": self._paused, "stop": self._stopped, "pace": self.pace}
                self.actor.control.remote(wish, self.version)

    def request_steps(self, steps: int) -> StepRequest:
        request = StepRequest(steps)
        if not self._paused or self.actor is None:
            request.error = "pause the run first: only a paused run takes single steps"
            request.done.set()
            return request
        ref = self.actor.steps.remote(steps, self.version)   # after the pause: it waits for it

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

    def _create(self) -> None:
        assert self.new is not None
        report_seconds, network, start_epoch = self.new
        params = network.params if network is not None else None
        self.new = None
        with self._lock:
            self.actor = self._executor.create(self.run_id, self.version, self._executor.data_ref(),
                                               self.config.to_dict(), params, start_epoch, report_seconds,
                                               self.pace, self._paused)
        if self._stopped:
            self._send("stop")

    def _fetch(self, wait: float) -> list[tuple[int, tuple]]:
        ray = self._executor._ray
        try:
            return ray.get(self.actor.poll.remote(self._acknowledge(), self._read, wait))
        except ray.exceptions.RayActorError as exc:
            raise WorkerLost(f"the Ray actor training this run ended ({exc.__class__.__name__}); "
                             "resume the run to continue from its last checkpoint") from None

    def catch_up(self) -> None:
        """Publish the reports the actor queued while no server read them (a reattached run's, before
        the server answers anyone: it shows where the run is, not where its checkpoint was)."""
        wait = POLL_SECONDS if not self._paused else 0.0
        while True:   # a poll hands over POLL_BATCH at most; the actor may hold more (acked late, queued)
            batch = self._fetch(wait)
            for number, message in batch:
                if message[0] != "progress":
                    return     # its end: run() reads it again and ends the run
                self._publish(number, message)
            if len(batch) < POLL_BATCH:
                return
            wait = 0.0

    def _publish(self, number: int, message: tuple) -> None:
        metrics = message[1]
        # An epoch's end (or the final report) may come at the step last reported: it is news all the same.
        if (metrics["step"], metrics["epoch_end"], metrics["final"]) > self._recorded:
            progress = self._progress(metrics, message[2])
            self.callback(progress)
            with self._published:
                self.step = progress.step
                self._published.notify_all()
        self._read = number
        self._unacked.append((number, time.monotonic()))

    def _acknowledge(self) -> int:
        """Return the number of the newest report surely on record: read ACK_SECONDS ago or more, so
        its point has been written to the database (a server killed before that loses none)."""
        ack, due = -1, time.monotonic() - ACK_SECONDS
        while self._unacked and self._unacked[0][1] <= due:
            ack = self._unacked.popleft()[0]
        return ack

    def run(self) -> None:
        if self.actor is None:
            self._create()
        try:
            while not self.detached:
                for number, message in self._fetch(POLL_SECONDS):
                    if message[0] == "progress":
                        self._publish(number, message)
                    else:
                        self._end(message[1], message[2])
                        return
        finally:
            with self._lock:
                actor, self.actor = self.actor, None
            with self._published:   # a step still waiting for its report hears the end
                self._published.notify_all()
            if actor is not None:   # None: it could not be made
                self._executor.forget(actor, kill=not self.detached)
