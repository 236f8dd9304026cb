"""A run's controls, used from any thread: pause, resume, stop, its pace, and single steps on a paused
run (StepRequest). The training loop (app.training.trainer) reads them between steps.

The loop sleeps on `_wake` (between paced steps, and while paused); every control sets it, so a
sleeping loop hears it at once. At "full" pace the loop never looks at it.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from .pace import Pace


@dataclass
class StepRequest:
    """N mini-batches asked of a paused run, and what they did (filled in by the training thread)."""

    steps: int
    done: threading.Event = field(default_factory=threading.Event)
    taken: int = 0
    examples_seen_before: int = 0
    batch_cost_before: float = math.nan
    batch_cost_after: float = math.nan
    w1_before: np.ndarray | None = None   # the first layer's weights as trained (not averaged)
    w1_after: np.ndarray | None = None
    error: str | None = None


class Controls:
    """Pause, resume, stop, the pace and single steps, set from any thread (Trainer is one)."""

    def __init__(self, pace: str | float) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pace = Pace(pace)
        self._step_request: StepRequest | None = None

    def pause(self) -> None:
        self._running.clear()
        self._wake.set()

    def resume(self) -> None:
        self._pace.restart()     # the pace starts again from now: no burst for the time paused
        self._running.set()
        self._end_step_request("the run was resumed")   # steps are for a paused run
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()
        self._wake.set()

    def set_pace(self, pace: str | float) -> None:
        """Train at `pace`: "full", "classroom" or examples per second (config.pace_problem checks it)."""
        self._pace.set(pace)     # start the new pace from now, not from the old one's schedule
        self._wake.set()

    @property
    def pace(self) -> str | float:
        return self._pace.pace

    def request_steps(self, steps: int) -> StepRequest:
        """Ask a paused run for exactly `steps` mini-batches; the returned request's `done` is set
        once they are taken (or `error` says why not). The run stays paused."""
        request = StepRequest(steps)
        if not self.paused or self.stopped:
            request.error = "pause the run first: only a paused run takes single steps"
            request.done.set()
            return request
        self._step_request = request
        self._wake.set()
        return request

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _end_step_request(self, error: str | None) -> None:
        """Answer the pending request, if any: done, or `error` saying why it was not."""
        request, self._step_request = self._step_request, None
        if request is not None:
            request.error = error
            request.done.set()
