"""The pace of a run: when its next mini-batches are due, at a fixed number of examples a second or
at the classroom pace, which starts slowly and speeds up as the run learns.

Arithmetic on a clock the caller reads, nothing more: the trainer does the sleeping, on an event that
pause, stop and a pace change set (app.training.trainer).
"""

from __future__ import annotations

# The classroom pace: examples per second = CLASSROOM_START + CLASSROOM_GROWTH * examples seen, so
# examples seen = 100 (e^(CLASSROOM_GROWTH t) - 1): it starts at 1.6 mini-batches a second (every step
# visible) and each tenfold from 100 on gets about the same screen time, ln(10) / CLASSROOM_GROWTH
# seconds (docs/performance.md has the measured climb).
CLASSROOM_START, CLASSROOM_GROWTH = 16.0, 0.16
PACE_CATCH_UP = 0.5       # seconds of steps a paced run may take in a burst after falling behind


def classroom_rate(examples_seen: int) -> float:
    """Return the classroom pace's examples per second after `examples_seen` examples."""
    return CLASSROOM_START + CLASSROOM_GROWTH * examples_seen


class Pace:
    """A run's pace ("full", "classroom" or examples per second) and when its next step is due."""

    def __init__(self, pace: str | float) -> None:
        self.pace = pace
        self._due = 0.0           # when the next paced step may start, on the caller's clock

    def set(self, pace: str | float) -> None:
        """Go at `pace` from the next look at the clock."""
        self.pace = pace
        self.restart()

    def restart(self) -> None:
        """Start the schedule again from the next look (a new pace, a resume): no burst for the time
        before it."""
        self._due = 0.0

    def steps_due(self, most: int, examples_seen: int, batch_size: int, now: float) -> tuple[int, float]:
        """Return (how many of the next `most` mini-batches are due at `now`, seconds to wait first):
        (k, 0.0) with k >= 1, or (0, seconds until the next one is due)."""
        pace = self.pace
        if pace == "full":
            return most, 0.0
        rate = classroom_rate(examples_seen) if pace == "classroom" else float(pace)
        # From a fresh start (0: a new pace, a resume) the next step is due now; after falling behind
        # (a busy machine oversleeps), at most PACE_CATCH_UP seconds of steps are made up at once.
        self._due = now if self._due == 0.0 else max(self._due, now - PACE_CATCH_UP)
        if self._due > now:
            return 0, self._due - now
        k = min(most, 1 + int((now - self._due) * rate / batch_size))
        self._due += k * batch_size / rate
        return k, 0.0
