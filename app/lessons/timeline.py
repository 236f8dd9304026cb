"""A run's first-layer weights over time, recorded while it trains, for a timeline slider.

The run manager keeps only each run's newest snapshot, so a Recorder samples it. A recorder that
follows its run (the teacher asked to record it) samples every `period` seconds in its own thread
until the run ends; any other recorder owns no thread and samples only when someone asks for its
frames, so anonymous readers can never make the server start threads. Frames are the first
`neurons` maps in float16 (about 25 KB each); past `max_frames`, every other frame is dropped, so
the whole run stays covered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.nn.network import Network


@dataclass(frozen=True)
class Frame:
    step: int
    epoch: float
    test_accuracy: float | None
    maps: np.ndarray          # (neurons, 784) float16


class Recorder:
    def __init__(self, run: Any, neurons: int = 16, period: float = 0.1, max_frames: int = 240,
                 initial: Network | None = None, follow: bool = False):
        """Record `run` (anything with .latest Progress and .ended): in a thread until it ends when
        `follow`, else at each sample(). `initial`: the network before its first step, recorded as
        frame 0 (the run only publishes after training)."""
        self.run, self.neurons, self.period, self.max_frames = run, neurons, period, max_frames
        self._frames: list[Frame] = []
        if initial is not None:
            self._frames.append(Frame(0, 0.0, None, initial.W[0][:neurons].astype(np.float16)))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None
        if follow:
            self.follow()

    @property
    def following(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def follow(self) -> None:
        """Sample in a thread of its own until the run ends (no-op if already following)."""
        if self.following or self._stop.is_set():
            return
        name = f"timeline-{getattr(self.run, 'id', '?')}"
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            ended = self.run.ended            # read first: the last sample then sees the final weights
            self.sample()
            if ended:
                return
            self._stop.wait(self.period)

    def sample(self) -> None:
        """Record the run's newest snapshot if it is newer than the last frame."""
        latest = self.run.latest
        if latest is None:
            return
        with self._lock:
            if self._frames and self._frames[-1].step == latest.step:
                return
            maps = latest.snapshot.W[0][:self.neurons].astype(np.float16)
            self._frames.append(Frame(latest.step, float(latest.epoch), latest.test_accuracy, maps))
            if len(self._frames) > self.max_frames:
                last = len(self._frames) - 1
                self._frames = [f for i, f in enumerate(self._frames) if i % 2 == 0 or i == last]

    def frames(self) -> list[Frame]:
        with self._lock:
            return list(self._frames)

    def stop(self) -> None:
        self._stop.set()
