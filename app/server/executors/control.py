"""The server's half of a run that trains elsewhere (a worker process, a Ray actor): the Trainer's
controls kept as flags here and forwarded by `_send`, and what an `end` report means.

Both remote executors hold a run the same way: the flags answer `paused` and `stopped` at once (the
trainer far away may take a moment to hear), every control goes out as one message, and the last
report says how the run ended, which run() turns into the Trainer's own return or exception.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.trainer import Diverged, Progress

from . import RunFailed

# What a single-steps answer carries back from the trainer (a worker's or an actor's StepRequest).
STEP_FIELDS = ("taken", "examples_seen_before", "batch_cost_before", "batch_cost_after", "w1_before",
               "w1_after", "error")
NOT_STARTED = "the run has not started training yet; try again shortly"


class Controllable(Protocol):
    def set_pace(self, pace: str | float) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...


def apply_controls(trainer: Controllable, pace: str | float, paused: bool, stopped: bool) -> None:
    """Give a trainer just made the controls asked for before it existed."""
    trainer.set_pace(pace)
    if paused:
        trainer.pause()
    if stopped:
        trainer.stop()


def apply_changes(trainer: Controllable, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Tell a trainer already going what changed from the controls `old` to `new` ({"pace", "pause",
    "stop"}; a Ray actor's, ray_actor.py)."""
    if new["pace"] != old["pace"]:
        trainer.set_pace(new["pace"])
    if new["stop"] and not old["stop"]:
        trainer.stop()
    if new["pause"] != old["pause"]:
        trainer.pause() if new["pause"] else trainer.resume()


class RemoteTraining:
    """A run's controls on the server's side; a subclass says how a control reaches the trainer."""

    def __init__(self, config: TrainConfig):
        self.config = config
        self._paused = self._stopped = False
        self.pace: str | float = config.pace
        self.step = 0                    # the newest report's step (the trainer's own count is remote)
        self.outcome: str | None = None  # how the run ended, once its end report came
        self._lock = threading.Lock()

    def _send(self, kind: str, value: Any = None) -> None:
        """Forward one control ("pause", "resume", "stop" or "pace" with its value) to the trainer."""
        raise NotImplementedError

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped or self.outcome == "stopped"

    def pause(self) -> None:
        self._paused = True
        self._send("pause")

    def resume(self) -> None:
        self._paused = False
        self._send("resume")

    def stop(self) -> None:
        self._stopped = True
        self._send("stop")

    def set_pace(self, pace: str | float) -> None:
        self.pace = pace
        self._send("pace", pace)

    def _progress(self, metrics: dict[str, Any], params: Any) -> Progress:
        """Return the Progress a ("progress", metrics, params) report stands for."""
        c = self.config
        return Progress(snapshot=Network(c.sizes, c.activation, c.cost, params=params), **metrics)

    def _end(self, outcome: str, text: str) -> None:
        """Record the run's end report; raise as the Trainer would have (Diverged, RunFailed)."""
        self.outcome = outcome
        if outcome == "diverged":
            raise Diverged(text)
        if outcome == "failed":
            raise RunFailed(text)
