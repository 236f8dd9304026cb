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

The controls are in app.training.controls, the pace's arithmetic in app.training.pace and the reports'
types in app.training.progress; what callers import from them is imported here too, where they have
always found it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from app.nn.network import Network, one_hot
from app.nn.optim import SGD, scheduled_rate

from .config import TrainConfig
from .controls import Controls, StepRequest
from .epochs import EVAL_SAMPLE, PROBE_SIZE, EpochFeeder, Prepared, prepare, probe_set  # noqa: F401 (API)
from .mnist import Mnist
from .pace import CLASSROOM_GROWTH, CLASSROOM_START, PACE_CATCH_UP, classroom_rate  # noqa: F401 (API)
from .progress import EVALUATED, Diverged, Progress, evaluation

# Steps in a run of steps between two looks at the clock and the controls; the mini-batch cost is
# sampled on each run's first step. A sample is a cost computed over the step's outputs, work a small
# step would feel if done every time; one step in 25 keeps the cost curve and the speed
# (docs/performance.md, "Training step speed", has the timings).
COST_SAMPLE_EVERY = 25
COST_EMA = 0.25           # weight of each new sample: about the smoothing of 0.1 every 10 steps
MILESTONE_GROWTH = 1.08   # a report each time examples_seen grows by 8%: ~30 per tenfold


class Trainer(Controls):
    """A run: its controls (pause, resume, stop, pace, single steps; app.training.controls), the loop
    that trains, and the reports it makes."""

    def __init__(self, config: TrainConfig, data: Mnist, callback: Callable[[Progress], None] | None = None,
                 report_seconds: float = 0.1, eval_seconds: float = 1.0, network: Network | None = None,
                 start_epoch: int = 0):
        """A run of `config` on `data`. The callback gets a Progress about every `report_seconds`,
        with test/validation figures about every `eval_seconds` and at the end of each epoch.
        Pass `network` (and `start_epoch`) to continue training an existing network."""
        self.config = config.validate()
        super().__init__(config.pace)
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
        self.step = 0
        self.examples_seen = 0
        self.batch_cost = math.nan
        self.train_seconds = 0.0
        self.last: Progress | None = None
        self._caller_errstate = np.geterr()
        self._next_milestone = 0             # examples_seen of the next log-spaced report

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
            rate = self._steps(blocks, y_epoch, start, end, step_fn, rate, scheduled=not constant_rate)
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

    def _steps(self, blocks: np.ndarray, y_epoch: np.ndarray, start: int, end: int, step_fn, rate: float,
               scheduled: bool) -> float:
        """Take the epoch's steps start..end-1, sampling the cost of the first, at `rate` or, if
        `scheduled`, at the schedule's rate for each step; return the rate of the last."""
        try:
            i = start
            if scheduled:
                rate = self._rate = self._rate_at(self.step)
            out = step_fn(blocks[i], y_epoch[i], rate)    # y_epoch[i]: step i's y.T
            self._sample_cost(out, y_epoch[i].T)          # the cost of a run's first step
            if scheduled:
                for i in range(start + 1, end):
                    rate = self._rate = self._rate_at(self.step + i - start)
                    step_fn(blocks[i], y_epoch[i], rate)
            else:
                for i in range(start + 1, end):
                    step_fn(blocks[i], y_epoch[i], rate)
        except FloatingPointError as exc:
            self._diverged(f"overflow at step {self.step + i - start} ({exc})")
        self.step += end - start
        self.examples_seen += (end - start) * self.config.batch_size
        return rate

    def _paced_steps(self, most: int, m: int) -> int:
        """Return how many of the next `most` mini-batches are due at the run's pace (0: none yet,
        after sleeping until the next one is due or until woken by pause, stop or a pace change)."""
        self._wake.clear()
        # the ramp counts steps, so a run resumed from a checkpoint goes on at its speed
        k, wait = self._pace.steps_due(most, self.step * m, m, time.perf_counter())
        if k == 0:
            self._wake.wait(wait)
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
            figures |= evaluation(self.data, snapshot)
        elif self.last is not None:  # carry the latest figures forward, so every report is complete
            figures |= {k: getattr(self.last, k) for k in EVALUATED}
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
