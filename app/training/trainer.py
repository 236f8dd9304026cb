"""The training loop: epochs of shuffled mini-batches, evaluation, and progress through one callback.

It knows nothing of the web: a caller runs `Trainer.run()` in whatever thread it likes and may call
`pause()`, `resume()`, `stop()`, `set_pace()` and, on a paused run, `request_steps()` from any other.
(run() prepares the next epoch's inputs, shuffled and jittered, on a helper thread of its own, which
ends before run() returns.) Readers never see the arrays being trained: every report carries an
immutable copy of the network (`snapshot`).

Reports come about every `report_seconds` and also at log-spaced numbers of examples seen (10, then
each time it grew by 8%), each with the probe's cost and accuracy, so a chart of the first seconds,
when learning is fastest, has points enough whatever the pace. At a pace other than "full" the loop
sleeps between steps on an event that pause, stop and a pace change set; at "full" it never sleeps.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.nn.network import Network, one_hot
from app.nn.optim import SGD, scheduled_rate

from .config import TrainConfig
from .epochs import EVAL_SAMPLE, PROBE_SIZE, EpochFeeder, Prepared, prepare, probe_set  # noqa: F401 (API)
from .mnist import Mnist

# Steps in a run of steps between two looks at the clock and the controls; the mini-batch cost is
# sampled on each run's first step. A sample is a cost computed over the step's outputs, work a small
# step would feel if done every time; one step in 25 keeps the cost curve and the speed
# (docs/performance.md, "Training step speed", has the timings).
COST_SAMPLE_EVERY = 25
COST_EMA = 0.25           # weight of each new sample: about the smoothing of 0.1 every 10 steps
MILESTONE_GROWTH = 1.08   # a report each time examples_seen grows by 8%: ~30 per tenfold
# The classroom pace: examples per second = CLASSROOM_START + CLASSROOM_GROWTH * examples seen, so
# examples seen = 100 (e^(CLASSROOM_GROWTH t) - 1): it starts at 1.6 mini-batches a second (every step
# visible) and each tenfold from 100 on gets about the same screen time, ln(10) / CLASSROOM_GROWTH
# seconds (docs/performance.md has the measured climb).
CLASSROOM_START, CLASSROOM_GROWTH = 16.0, 0.16
PACE_CATCH_UP = 0.5       # seconds of steps a paced run may take in a burst after falling behind


class Diverged(Exception):  # noqa: N818 (the name reads as what happened; part of the API)
    """The cost became NaN or infinite: the learning rate is too large for this network."""


@dataclass(frozen=True)
class Progress:
    """One report: where training is, how it is doing, and a snapshot of the weights."""

    step: int
    epoch: float                    # fractional: 2.5 = half-way through the third epoch
    examples_seen: int
    batch_cost: float               # smoothed (EMA) mini-batch cost
    learning_rate: float
    examples_per_second: float
    train_seconds: float            # time spent training, pauses excluded
    snapshot: Network
    test_cost: float | None = None
    test_accuracy: float | None = None
    val_cost: float | None = None
    val_accuracy: float | None = None
    train_cost: float | None = None      # on a fixed sample of the training set, with its labels
    train_accuracy: float | None = None
    probe_cost: float | None = None      # on the fixed PROBE_SIZE test images, fresh at every report
    probe_accuracy: float | None = None
    probe_size: int = PROBE_SIZE
    milestone: bool = False         # made at a log-spaced examples_seen (history keeps these)
    evaluated: bool = False         # True when this report carries fresh evaluation figures
    epoch_end: bool = False
    final: bool = False

    def metrics(self) -> dict:
        """Return the report as plain numbers (no snapshot)."""
        return {k: v for k, v in self.__dict__.items() if k != "snapshot"}


def classroom_rate(examples_seen: int) -> float:
    """Return the classroom pace's examples per second after `examples_seen` examples."""
    return CLASSROOM_START + CLASSROOM_GROWTH * examples_seen


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


class Trainer:
    def __init__(self, config: TrainConfig, data: Mnist, callback: Callable[[Progress], None] | None = None,
                 report_seconds: float = 0.1, eval_seconds: float = 1.0, network: Network | None = None,
                 start_epoch: int = 0):
        """A run of `config` on `data`. The callback gets a Progress about every `report_seconds`,
        with test/validation figures about every `eval_seconds` and at the end of each epoch.
        Pass `network` (and `start_epoch`) to continue training an existing network."""
        self.config = config.validate()
        self.data = prepare(config, data)
        if len(self.data.train_labels) < config.batch_size:
            raise ValueError(f"batch size {config.batch_size} exceeds the {len(self.data.train_labels)} "
                             "training examples")
        # Fixed for the run; the schedule reads it at every step.
        self._total_steps = max(len(self.data.train_labels) // config.batch_size * config.epochs, 1)
        self.net = network or Network(config.sizes, config.activation, config.cost, seed=config.seed)
        self.optimizer = SGD(self.net, config.learning_rate, config.momentum, config.l2, config.average)
        self.callback = callback or (lambda progress: None)
        self.report_seconds, self.eval_seconds = report_seconds, eval_seconds
        self.start_epoch = start_epoch
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self.step = 0
        self.examples_seen = 0
        self.batch_cost = math.nan
        self.train_seconds = 0.0
        self.last: Progress | None = None
        self._caller_errstate = np.geterr()
        # Pace: the loop sleeps on _wake between paced steps; pause, stop, a pace change or a step
        # request set it, so the sleeper hears them at once. At "full" the loop never looks at it.
        self._wake = threading.Event()
        self.pace: str | float = "full"
        self._due = 0.0                      # when the next paced step may start (perf_counter)
        self.set_pace(config.pace)
        self._step_request: StepRequest | None = None
        self._next_milestone = 0             # examples_seen of the next log-spaced report

    # Control, from any thread.
    def pause(self) -> None:
        self._running.clear()
        self._wake.set()

    def resume(self) -> None:
        self._due = 0.0          # the pace starts again from now: no burst for the time paused
        self._running.set()
        self._end_step_request("the run was resumed")   # steps are for a paused run
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()
        self._wake.set()

    def set_pace(self, pace: str | float) -> None:
        """Train at `pace`: "full", "classroom" or examples per second (config.pace_problem checks it)."""
        self.pace = pace
        self._due = 0.0          # start the new pace from now, not from the old one's schedule
        self._wake.set()

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

    def steps_per_epoch(self) -> int:
        return len(self.data.train_labels) // self.config.batch_size

    def run(self) -> Network:
        """Train for the configured epochs (or until stopped); return the trained network.
        Raises Diverged (with the last good weights restored) if the cost becomes NaN or infinite."""
        cfg, d = self.config, self.data
        rng = np.random.default_rng([cfg.seed, 2, self.start_epoch])
        self.step = self.start_epoch * self.steps_per_epoch()
        self.examples_seen = self.step * cfg.batch_size   # a resumed run's charts go on from there
        ys = one_hot(d.train_labels, self.net.sizes[-1])
        self._good = self.net.copy()
        # The rate the reports show, even when stopped before the first step.
        self._rate = self._rate_at(self.step)
        self._last_report = self._last_eval = time.perf_counter()
        self._caller_errstate = np.geterr()  # the callback runs under the caller's rules, not ours
        feeder = EpochFeeder(d.images, d.train_idx, rng, cfg.augment, self.net.input_scale)
        try:
            with np.errstate(over="raise", invalid="raise"):
                for epoch in range(self.start_epoch, cfg.epochs):
                    x_epoch, order = feeder.take()
                    if epoch + 1 < cfg.epochs:
                        feeder.prepare()   # the next epoch's inputs, while this one trains
                    self._epoch(x_epoch, ys, order)
                    if self._stop.is_set():
                        break
                    self._report(self._rate, evaluate=True, epoch_end=True)
                    self._last_report = self._last_eval = time.perf_counter()
        finally:
            feeder.close()
            self._end_step_request("the run ended before taking every step")
        if self.optimizer.averaged is not None:
            self.net.params[...] = self.optimizer.averaged   # the run's model is the average
        self._report(self._rate, evaluate=True, final=True)
        return self.net

    def _rate_at(self, step: int) -> float:
        cfg = self.config
        return scheduled_rate(cfg.learning_rate, cfg.schedule, min(step / self._total_steps, 1.0), cfg.warmup)

    def _epoch(self, x_epoch: np.ndarray, ys: np.ndarray, order: np.ndarray) -> None:
        """Take one epoch of steps: x_epoch holds the inputs already in the epoch's order (row k is
        example order[k], with its bias input); stop early if asked."""
        m, n = self.config.batch_size, self.steps_per_epoch()
        # Each step reads its mini-batch where it lies, rows that follow each other in x_epoch
        # (copying them first into a fixed buffer costs time at every step). The targets are gathered
        # once, in this epoch's order, each step's block stored transposed: the network reads
        # y.T, one column per example, and a contiguous operand is quicker for NumPy.
        blocks = x_epoch[:n * m].reshape(n, m, -1)    # block i: the inputs of step i
        y_epoch = ys.take(order[:n * m], axis=0).reshape(n, m, -1).transpose(0, 2, 1).copy()
        self.net.check_input(blocks[0])               # made by the EpochFeeder: checked once an epoch
        step_fn, clock = self.optimizer.step_function(m), time.perf_counter
        constant_rate = self.config.schedule == "constant" and self.config.warmup == 0
        rate = self._rate = self._rate_at(self.step)
        # The steps go in runs of 25 at the video's batch of 10, with the bookkeeping (pause, stop,
        # pace, the cost sample, the clock, the counters) once a run: per step it showed in the speed
        # of small steps. A run ends early at the next log-spaced report. When steps are big, runs are
        # of one step: a batch of thousands through a wide network can take seconds a step, and a
        # teacher's Stop must not wait 25 of them.
        run = COST_SAMPLE_EVERY if m * max(self.net.sizes) <= 20_000 else 1
        t0 = clock()
        start = 0
        while start < n:
            if not self._running.is_set():
                self.train_seconds += clock() - t0
                if self.last is None or self.last.step != self.step:
                    self._report(rate, evaluate=False)   # readers see exactly where it paused
                start = self._while_paused(blocks, y_epoch, start, step_fn)
                t0 = clock()
                continue
            if self._stop.is_set():
                break
            due = -(-(self._next_milestone - self.examples_seen) // m)   # steps to the next report
            end = min(start + run, n, start + max(due, 1))
            if self.pace != "full":
                end = start + self._paced_steps(end - start, m)
                if end == start:
                    continue
            try:
                i = start
                if not constant_rate:
                    rate = self._rate = self._rate_at(self.step)
                out = step_fn(blocks[i], y_epoch[i], rate)    # y_epoch[i]: step i's y.T
                self._sample_cost(out, y_epoch[i].T)          # the cost of a run's first step
                if constant_rate:
                    for i in range(start + 1, end):
                        step_fn(blocks[i], y_epoch[i], rate)
                else:
                    for i in range(start + 1, end):
                        rate = self._rate = self._rate_at(self.step + i - start)
                        step_fn(blocks[i], y_epoch[i], rate)
            except FloatingPointError as exc:
                self._diverged(f"overflow at step {self.step + i - start} ({exc})")
            self.step += end - start
            self.examples_seen += (end - start) * m
            start = end
            now = clock()
            if now - self._last_report >= self.report_seconds or self.examples_seen >= self._next_milestone:
                self.train_seconds += now - t0
                evaluate = now - self._last_eval >= self.eval_seconds
                self._report(rate, evaluate=evaluate)
                t0 = self._last_report = clock()  # reporting and evaluating are not training time
                if evaluate:
                    self._last_eval = t0
        self.train_seconds += clock() - t0

    def _paced_steps(self, most: int, m: int) -> int:
        """Return how many of the next `most` mini-batches are due at the run's pace (0: none yet,
        after sleeping until the next one is due or until woken by pause, stop or a pace change)."""
        self._wake.clear()
        pace = self.pace
        if pace == "full":
            return most
        # the ramp counts steps, so a run resumed from a checkpoint goes on at its speed
        rate = classroom_rate(self.step * m) if pace == "classroom" else float(pace)
        now = time.perf_counter()
        # From a fresh start (0: a new pace, a resume) the next step is due now; after falling behind
        # (a busy machine oversleeps), at most PACE_CATCH_UP seconds of steps are made up at once.
        self._due = now if self._due == 0.0 else max(self._due, now - PACE_CATCH_UP)
        if self._due > now:
            self._wake.wait(self._due - now)
            return 0
        k = min(most, 1 + int((now - self._due) * rate / m))
        self._due += k * m / rate
        return k

    def _while_paused(self, blocks: np.ndarray, y_epoch: np.ndarray, start: int, step_fn) -> int:
        """Wait while paused, taking the steps a StepRequest asks for; return where the epoch is
        (== len(blocks) when the requested steps reached its end; the rest follow in the next)."""
        n = len(blocks)
        while not self._running.is_set() and not self._stop.is_set() and start < n:
            self._wake.clear()
            request = self._step_request
            if request is None:
                self._wake.wait()
                continue
            start = self._take_steps(request, blocks, y_epoch, start, step_fn)
        return start

    def _take_steps(self, request: StepRequest, blocks: np.ndarray, y_epoch: np.ndarray, start: int,
                    step_fn) -> int:
        """Take the request's remaining steps (as far as this epoch goes); return the next step's index."""
        m, net = self.config.batch_size, self.net
        if request.taken == 0:
            request.examples_seen_before = self.examples_seen
            request.w1_before = net.W[0].copy()
        with np.errstate(over="raise", invalid="raise"):
            try:
                while request.taken < request.steps and start < len(blocks):
                    last = request.taken == request.steps - 1
                    x, y = blocks[start][:, :-1] / net.input_scale, y_epoch[start].T
                    if last:
                        request.batch_cost_before = self._batch_cost(x, y)
                    rate = self._rate = self._rate_at(self.step)
                    out = step_fn(blocks[start], y_epoch[start], rate)
                    if last:
                        self._sample_cost(out, y)
                        request.batch_cost_after = self._batch_cost(x, y)
                    request.taken += 1
                    start += 1
                    self.step += 1
                    self.examples_seen += m
            except FloatingPointError as exc:
                self._end_step_request(f"training diverged ({exc})")
                self._diverged(f"overflow at step {self.step} ({exc})")
        if request.taken == request.steps:
            request.w1_after = net.W[0].copy()
            self._report(self._rate, evaluate=False)
            self._last_report = time.perf_counter()
            self._end_step_request(None)
        return start

    def _batch_cost(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.net.cost.fn(self.net.forward(x)[-1], y).sum()) / len(y)

    def _end_step_request(self, error: str | None) -> None:
        request, self._step_request = self._step_request, None
        if request is not None:
            request.error = error
            request.done.set()

    def _sample_cost(self, out: np.ndarray, y: np.ndarray) -> None:
        cost = float(self.net.cost.fn(out, y).sum()) / len(y)  # sum / len: .mean() is slower
        if not math.isfinite(cost):
            self._diverged(f"the mini-batch cost became {cost} at step {self.step}")
        if math.isnan(self.batch_cost):
            self.batch_cost = cost
        else:
            self.batch_cost = (1 - COST_EMA) * self.batch_cost + COST_EMA * cost

    def _diverged(self, why: str) -> None:
        self.optimizer.restore(self._good.params)  # never leave NaN weights behind
        raise Diverged(f"training diverged: {why}. The last good weights were kept; "
                       "try a smaller learning rate.")

    def _report(self, rate: float, evaluate: bool, epoch_end: bool = False, final: bool = False) -> None:
        snapshot = self.optimizer.model()   # the weights as trained, or their average
        if not np.all(np.isfinite(snapshot.params)):
            self._diverged(f"a weight became NaN or infinite at step {self.step}")
        figures: dict = {}
        with np.errstate(all="ignore"):
            figures["probe_cost"], figures["probe_accuracy"] = snapshot.evaluate(*self.data.probe)
        if not math.isfinite(figures["probe_cost"]):   # weights too big to give an answer: not good ones
            self._diverged(f"the cost on test images became {figures['probe_cost']} at step {self.step}")
        self._good = snapshot
        if evaluate:
            d = self.data
            with np.errstate(all="ignore"):
                figures["test_cost"], figures["test_accuracy"] = snapshot.evaluate(d.test_x, d.test_labels)
                if len(d.val_labels):
                    figures["val_cost"], figures["val_accuracy"] = d.evaluate(snapshot, d.val_idx,
                                                                              d.val_labels)
                figures["train_cost"], figures["train_accuracy"] = d.evaluate(snapshot, *d.sample)
        elif self.last is not None:  # carry the latest figures forward, so every report is complete
            figures |= {k: getattr(self.last, k) for k in ("test_cost", "test_accuracy", "val_cost",
                                                          "val_accuracy", "train_cost", "train_accuracy")}
        milestone = self.examples_seen >= self._next_milestone
        if milestone:
            m = self.config.batch_size
            self._next_milestone = max(int(self.examples_seen * MILESTONE_GROWTH), self.examples_seen + m)
        steps_per_epoch = max(self.steps_per_epoch(), 1)
        self.last = Progress(milestone=milestone,
            step=self.step, epoch=self.step / steps_per_epoch, examples_seen=self.examples_seen,
            batch_cost=self.batch_cost, learning_rate=rate,
            examples_per_second=self.examples_seen / self.train_seconds if self.train_seconds else 0.0,
            train_seconds=self.train_seconds, snapshot=snapshot, evaluated=evaluate, epoch_end=epoch_end,
            final=final, **figures)
        with np.errstate(**self._caller_errstate):
            self.callback(self.last)
