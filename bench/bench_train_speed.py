"""Training speed of the video's network (784-16-16-10, sigmoid, quadratic cost, batch 10, float32).

Prints seconds per epoch of 60,000 examples for app.nn against two yardsticks timed in the same run:
the textbook per-example loop (bench/reference.py) and a plain vectorised loop (bench/plain.py).
Our two contenders read their inputs from memory as a real epoch does: app.nn trains on a random stretch
of one shuffled copy of the whole training set, and the Trainer runs a real full-size epoch.
The machine is shared and noisy (its speed swings within seconds), so the contenders run in
short blocks, round after round, in a fresh random order each round, with a block of the reference
before and after each of them: ref, A, ref, B, ref, C, ref. Each figure is the median over rounds, and
the ratios are paired: each block's time against the mean of the two reference blocks around it (the
median and quartiles over rounds), which cancels the swings of a busy host. Both wall-clock and CPU
(process) time are reported: with BLAS pinned to one thread they agree on a quiet machine, and CPU
time is what stays meaningful when other processes compete for the cores. The reference runs on 600
examples a block and is scaled up.

    python bench/bench_train_speed.py [--rounds 25]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.nn.network import Network, one_hot  # noqa: E402
from app.nn.optim import SGD  # noqa: E402
from app.training.config import TrainConfig  # noqa: E402
from app.training.mnist import load_mnist  # noqa: E402
from app.training.threads import pin_blas_threads  # noqa: E402
from app.training.trainer import Progress, Trainer  # noqa: E402
from bench.plain import PlainNetwork, plain_steps  # noqa: E402
from bench.reference import ReferenceNetwork  # noqa: E402

EPOCH = 60_000
SIZES = [784, 16, 16, 10]
ETA, BATCH = 3.0, 10
REF_BLOCK, FAST_BLOCK = 600, 6_000   # examples per block
TRAINER_EPOCH = 55_000               # the Trainer's epoch: the training set less the validation split
REFERENCE = "reference (per example, float64)"


def timed(fn) -> tuple[float, float]:
    """Return (wall, cpu) seconds that fn() took."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


class Contenders:
    """Each contender trains its own network, one block of examples per call; returns (wall, cpu)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, data):
        self.images, self.labels, self.data = images, labels, data
        self.rng = np.random.default_rng(0)
        self.ref = ReferenceNetwork(SIZES)
        self.plain = PlainNetwork(SIZES)
        self.targets = one_hot(labels)
        self.ours = SGD(Network(SIZES), ETA)
        # app_nn: the inputs in one shuffled order, as a Trainer epoch has them
        self.epoch_order = self.rng.permutation(len(images))
        self.epoch_x = self.ours.net.input_batch(images[self.epoch_order])

    def reference(self) -> tuple[float, float]:
        """The textbook's mini-batch loop (as in reference_epoch), its inputs converted untimed."""
        rows = self.rng.choice(len(self.images), REF_BLOCK, replace=False)
        pairs = [(self.images[i].reshape(784, 1).astype(np.float64), self.targets[i].reshape(10, 1)
                  .astype(np.float64)) for i in rows]

        def run():
            for k in range(0, REF_BLOCK, BATCH):
                self.ref.update_mini_batch(pairs[k:k + BATCH], ETA)
        return timed(run)

    def plain_vectorised(self) -> tuple[float, float]:
        order = self.rng.permutation(len(self.images))[:FAST_BLOCK]
        return timed(lambda: plain_steps(self.plain, self.images, self.targets, order, ETA, BATCH))

    def app_nn(self) -> tuple[float, float]:
        """The same steps as Trainer.run (its _epoch), without its bookkeeping: the inputs are shuffled
        into one full-size array beforehand (as the Trainer's helper thread does while the previous
        epoch trains), and each round trains on 6,000 consecutive rows of it from a random place, so
        that they come from memory, not from a cache, as in a real epoch; each step reads its rows
        where they lie; the targets are gathered per block, each step's transposed."""
        start = int(self.rng.integers(0, (len(self.images) - FAST_BLOCK) // BATCH)) * BATCH
        order = self.epoch_order[start:start + FAST_BLOCK]
        blocks = self.epoch_x[start:start + FAST_BLOCK].reshape(-1, BATCH, self.epoch_x.shape[1])
        y_block = self.targets.take(order, axis=0).reshape(-1, BATCH, 10).transpose(0, 2, 1).copy()
        step = self.ours.step

        def run():
            for i in range(FAST_BLOCK // BATCH):
                step(blocks[i], y_block[i].T, ETA)
        return timed(run)

    def trainer(self) -> tuple[float, float]:
        """The first epoch of a real Trainer.run on the full training split (55,000 examples), timed by
        its own clock (train_seconds: the steps and their bookkeeping, not the evaluations), while its
        helper thread shuffles the second epoch's inputs, as in every epoch but the last of a run;
        then the run is stopped. CPU time is not available here."""
        seen: list[float] = []

        def first_epoch(p: Progress) -> None:
            if p.epoch_end and not seen:
                seen.append(p.train_seconds)
                t.stop()
        t = Trainer(TrainConfig(epochs=2, seed=int(self.rng.integers(1000))), self.data, first_epoch,
                    report_seconds=1e9, eval_seconds=1e9)
        t.run()
        return seen[0], float("nan")


def check_same_maths() -> float:
    """Return the largest weight difference after one identical float64 step of all three loops."""
    rng = np.random.default_rng(1)
    x, labels = rng.random((BATCH, 784)), rng.integers(0, 10, BATCH)
    ref, plain = ReferenceNetwork(SIZES), PlainNetwork(SIZES, dtype=np.float64)
    net = Network(SIZES, dtype=np.float64)
    for k in range(3):
        net.W[k][...] = ref.weights[k]
        plain.weights[k] = ref.weights[k].copy()
    ref.update_mini_batch([(x[i].reshape(784, 1), one_hot(labels[i:i + 1], 10, np.float64).T)
                           for i in range(BATCH)], ETA)
    plain.update_mini_batch(x, one_hot(labels, 10, np.float64), ETA)
    SGD(net, ETA).step(net.input_batch(x), one_hot(labels, 10, np.float64))
    return max(max(abs(net.W[k] - ref.weights[k]).max(), abs(plain.weights[k] - ref.weights[k]).max())
               for k in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25, help="interleaved rounds (default 25)")
    args = parser.parse_args()
    pin_blas_threads(1)
    data = load_mnist()
    print(f"same maths: largest weight difference after one float64 step = {check_same_maths():.1e}")
    c = Contenders(data.train.images, data.train.labels, data)
    runs = {"plain vectorised (float32)": (c.plain_vectorised, FAST_BLOCK),
            "app.nn (SGD.step loop)": (c.app_nn, FAST_BLOCK),
            "Trainer.run (what users run)": (c.trainer, TRAINER_EPOCH)}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in [REFERENCE, *runs]}
    paired: dict[str, list[float]] = {name: [] for name in runs}

    def per_epoch(fn, n: int) -> tuple[float, float]:
        wall, cpu = fn()
        return wall * EPOCH / n, cpu * EPOCH / n
    load_before = os.getloadavg()
    started = time.perf_counter()
    shuffler = np.random.default_rng(3)
    for _ in range(args.rounds):
        before = per_epoch(c.reference, REF_BLOCK)          # ref, A, ref, B, ref, C, ref
        samples[REFERENCE].append(before)
        for name in shuffler.permutation(list(runs)):
            fn, n = runs[name]
            own = per_epoch(fn, n)
            after = per_epoch(c.reference, REF_BLOCK)
            samples[name].append(own)
            samples[REFERENCE].append(after)
            paired[name].append((before[0] + after[0]) / 2 / own[0])
            before = after
    report(samples, paired, args.rounds, load_before, time.perf_counter() - started)


def report(samples: dict, paired: dict, rounds: int, load_before: tuple, seconds: float) -> None:
    """Print the table: medians of seconds per 60,000-example epoch, and the ratios."""
    med = {name: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
           for name, s in samples.items()}
    ref, plain = med[REFERENCE], med["plain vectorised (float32)"]
    print(f"\n784-16-16-10 sigmoid/quadratic, batch {BATCH}, float32, BLAS 1 thread, real MNIST; "
          f"median of {rounds} interleaved rounds ({seconds:.0f} s; load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after)")
    print(f"{'':34s} {'s/epoch wall':>12s} {'s/epoch CPU':>12s} {'us/step':>8s} "
          f"{'vs reference':>16s} {'vs plain':>14s}")
    print(f"{'':34s} {'':>12s} {'':>12s} {'(CPU)':>8s} {'wall / CPU':>16s} {'wall / CPU':>14s}")
    for name, (wall, cpu) in med.items():
        us = cpu / (EPOCH / BATCH) * 1e6
        vs_ref = f"{ref[0] / wall:5.1f}x / " + (f"{ref[1] / cpu:5.1f}x" if cpu == cpu else "   -  ")
        vs_plain = f"{plain[0] / wall:4.1f}x / " + (f"{plain[1] / cpu:4.1f}x" if cpu == cpu else "  -  ")
        cpu_s = f"{cpu:12.3f}" if cpu == cpu else f"{'-':>12s}"
        us_s = f"{us:8.1f}" if cpu == cpu else f"{'-':>8s}"
        print(f"{name:34s} {wall:12.3f} {cpu_s} {us_s} {vs_ref:>16s} {vs_plain:>14s}")
    print("\nPaired (the mean of the reference blocks just before and after / the contender's block, "
          "wall clock): median [quartiles]")
    for name, ratios in paired.items():
        q1, q2, q3 = statistics.quantiles(ratios, n=4)
        print(f"{name:34s} {q2:5.1f}x [{q1:.1f}-{q3:.1f}]")
    print("\nGoal: >= 20x the reference (half the time of the plain vectorised loop).")


if __name__ == "__main__":
    main()
