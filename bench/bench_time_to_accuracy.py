"""Time to accuracy: seconds of training, from a fresh initialisation, until the test accuracy first
reaches 95% (the default recipe) and 98% (the best recipe).

Each recipe is read from the metadata 'config' of its shipped model (models/default.npz,
models/best.npz); when a model file is missing, a stand-in recipe is used and labelled as such.
Training runs through the real Trainer. A callback scores the test set every 0.25 s (default) or
0.5 s (best) of training, so each figure is an upper bound by at most that much;
the Trainer's own clock (train_seconds) leaves those evaluations out. Each recipe is capped, and a
recipe that does not get there says so.

    python bench/bench_time_to_accuracy.py [--cap 120]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.training.config import TrainConfig  # noqa: E402
from app.training.mnist import Mnist, load_mnist  # noqa: E402
from app.training.modelfile import ModelFileError, read_meta  # noqa: E402
from app.training.threads import pin_blas_threads  # noqa: E402
from app.training.trainer import Progress, Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Used only when models/best.npz does not exist yet: a wide ReLU MLP of the kind `best` is.
STAND_IN_BEST = TrainConfig(hidden=[256], activation="relu", cost="cross_entropy", learning_rate=0.1,
                            momentum=0.9, schedule="cosine", batch_size=64, epochs=10)


@dataclass
class Race:
    """One recipe's run towards a target accuracy, filled in by the Trainer's callback."""

    name: str
    config: TrainConfig
    source: str
    target: float
    cap: float
    check_every: float
    trainer: Trainer | None = None
    history: list[tuple[float, float]] = field(default_factory=list)   # (train s, test accuracy)
    reached: tuple[float, float, float, int] | None = None   # train s, wall s, CPU s, examples
    eval_wall: float = 0.0
    eval_cpu: float = 0.0
    start_wall: float = 0.0
    start_cpu: float = 0.0
    test: tuple = ()

    def on_progress(self, p: Progress) -> None:
        if self.reached or p.final:
            return
        now_wall, now_cpu = time.perf_counter(), time.process_time()
        elapsed = (now_wall - self.start_wall - self.eval_wall, now_cpu - self.start_cpu - self.eval_cpu)
        if p.evaluated and p.test_accuracy is not None:  # the Trainer just scored the test set
            accuracy = p.test_accuracy
        else:
            accuracy = p.snapshot.evaluate(*self.test)[1]
        self.eval_wall += time.perf_counter() - now_wall
        self.eval_cpu += time.process_time() - now_cpu
        self.history.append((p.train_seconds, accuracy))
        if accuracy >= self.target:
            self.reached = (p.train_seconds, *elapsed, p.examples_seen)
        # The wall-clock bound keeps the script's run time bounded on a busy machine too.
        if self.reached or p.train_seconds >= self.cap or elapsed[0] >= 2 * self.cap:
            assert self.trainer is not None
            self.trainer.stop()

    def run(self, data: Mnist) -> None:
        self.test = (data.test.images, data.test.labels)
        self.trainer = Trainer(self.config, data, self.on_progress, report_seconds=self.check_every,
                               eval_seconds=1e9)
        self.start_wall, self.start_cpu = time.perf_counter(), time.process_time()
        self.trainer.run()


def recipe(name: str, stand_in: TrainConfig) -> tuple[TrainConfig, str]:
    """Return (config, where it came from): the shipped model's recipe, else the stand-in."""
    path = ROOT / "models" / f"{name}.npz"
    try:
        return TrainConfig.from_dict(read_meta(path)["config"]), f"models/{name}.npz metadata"
    except (FileNotFoundError, ModelFileError, KeyError) as exc:
        return stand_in, f"STAND-IN recipe ({path.relative_to(ROOT)} unavailable: {type(exc).__name__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=float, default=120.0, help="training seconds per recipe (120)")
    args = parser.parse_args()
    pin_blas_threads(1)
    data = load_mnist()
    races = []
    for name, target, stand_in, every in (("default", 0.95, TrainConfig(), 0.25),
                                          ("best", 0.98, STAND_IN_BEST, 0.5)):
        config, source = recipe(name, stand_in)
        races.append(Race(name, config, source, target, args.cap, every))
    for race in races:
        print(f"{race.name}: {race.source}\n  {race.config.to_dict()}", flush=True)
        race.run(data)
    print(f"\nTime from a fresh initialisation to a test accuracy (BLAS 1 thread; load average "
          f"{os.getloadavg()[0]:.1f}; checked every 0.25 s (default) or 0.5 s (best) of training and at "
          "each epoch end: each figure is an upper bound by up to one check interval, and mid-epoch "
          "accuracy wavers, so where the checks land moves the figure by up to an epoch)")
    print(f"{'recipe':9s} {'target':>7s} {'train s':>8s} {'wall s':>7s} {'CPU s':>7s} {'epochs':>7s} "
          f"{'checks':>7s}  best seen")
    for r in races:
        best = max((a for _, a in r.history), default=float("nan"))
        if r.reached:
            train_s, wall_s, cpu_s, seen = r.reached
            n_train = r.trainer.steps_per_epoch() * r.config.batch_size if r.trainer else 1
            print(f"{r.name:9s} {r.target:7.0%} {train_s:8.1f} {wall_s:7.1f} {cpu_s:7.1f} "
                  f"{seen / n_train:7.2f} {len(r.history):7d}  {best:.2%}")
        else:
            seen = r.trainer.examples_seen if r.trainer else 0
            n_train = r.trainer.steps_per_epoch() * r.config.batch_size if r.trainer else 1
            why = "the recipe ended" if r.trainer and not r.trainer.stopped else "capped"
            print(f"{r.name:9s} {r.target:7.0%}  not reached ({why}) after {r.trainer.train_seconds:.0f} s "
                  f"of training ({seen / n_train:.1f} epochs, {len(r.history)} checks; best seen {best:.2%})"
                  if r.trainer else f"{r.name:9s} did not run")
    print("train s: the Trainer's clock (SGD steps only). wall s / CPU s: everything from run() on "
          "(augmentation, the Trainer's epoch-end evaluations) except this script's test scoring.")


if __name__ == "__main__":
    main()
