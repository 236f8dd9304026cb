"""`digit-studio train`: train a network on MNIST with a live progress line, then save it."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.nn.network import Network
from app.training.config import FIELDS, PACES, Spec, TrainConfig
from app.training.mnist import DatasetError, Mnist, load_mnist
from app.training.modelfile import save_model
from app.training.threads import pin_blas_threads
from app.training.trainer import Diverged, Prepared, Progress, Trainer

from .common import fail, layer_sizes, positive_float, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a network and save it as a model file")
    for name, spec in FIELDS.items():   # one flag per config field, from app/training/config.py
        flag = spec.flag or "--" + name.replace("_", "-")
        p.add_argument(flag, dest=name, default=spec.default, help=spec.help, **_argument(spec))
    p.add_argument("--float16", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--data-dir", default=None, help="MNIST folder (default data/mnist or $DIGIT_STUDIO_DATA)")
    p.add_argument("--out", default="var/models/model.npz",
                   help="where to save the model (default var/models/model.npz; "
                        "models/ holds the shipped ones)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run)


def _argument(spec: Spec) -> dict[str, Any]:
    """Return add_argument's type (and choices) for a config field; its bounds are checked by
    TrainConfig.validate, so the messages are the API's."""
    if spec.kind == "list":
        return {"type": layer_sizes}
    if spec.kind == "choice":
        return {"choices": list(spec.choices)}
    if spec.kind == "pace":
        return {"type": pace_value}
    if spec.kind == "int":
        return {"type": positive_int if (spec.min or 0) >= 1 else int}
    return {"type": positive_float if spec.low_open and spec.min == 0 else float}


def pace_value(text: str) -> str | float:
    """Parse a pace: full, classroom or examples per second."""
    if text in PACES:
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a pace is full, classroom or examples/s") from None


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    config = TrainConfig(**{name: getattr(args, name) for name in FIELDS})
    try:
        return config.validate()
    except ValueError as exc:
        fail(str(exc))


class ProgressLine:
    """A one-line progress bar on stderr, redrawn in place: epoch, cost, accuracy, speed."""

    def __init__(self, epochs: int, quiet: bool):
        self.epochs, self.quiet = epochs, quiet
        self._closed_at: int | None = None  # step of the last line ended with a newline

    def __call__(self, p: Progress) -> None:
        if self.quiet:
            return
        # The final report repeats the last epoch's end: that line is already printed.
        if p.final and self._closed_at == p.step:
            return
        done = min(p.epoch / self.epochs, 1.0)
        bar = "#" * int(done * 20) + "-" * (20 - int(done * 20))
        acc = f"{p.test_accuracy:6.2%}" if p.test_accuracy is not None else "  --  "
        line = (f"\r[{bar}] epoch {p.epoch:5.2f}/{self.epochs}  cost {p.batch_cost:.4f}  "
                f"test acc {acc}  {p.examples_per_second:,.0f} ex/s")
        sys.stderr.write(line)
        if p.epoch_end or p.final:
            val = f"  val {p.val_accuracy:.2%}" if p.val_accuracy is not None else ""
            sys.stderr.write(f"{val}\n")
            self._closed_at = p.step
        sys.stderr.flush()


def measure_stored(net: Network, data: Mnist, prepared: Prepared, dtype: str) -> dict[str, float | None]:
    """Return test and validation figures of the weights as they will be stored (float16 rounds
    them), so that `evaluate` on the saved file reproduces the test accuracy in its metadata."""
    stored = Network(net.sizes, net.activation.name, net.cost.name,
                     params=net.params.astype(dtype).astype(np.float32))
    test_cost, test_accuracy = stored.evaluate(data.test.images, data.test.labels)
    val_accuracy = None
    if len(prepared.val_labels):
        val_accuracy = stored.evaluate(prepared.val_x, prepared.val_labels)[1]
    return {"test_accuracy": test_accuracy, "test_cost": test_cost, "val_accuracy": val_accuracy}


def train(config: TrainConfig, data: Mnist, quiet: bool) -> Trainer:
    """Return the trainer after a complete run, or exit with a message."""
    try:
        trainer = Trainer(config, data, ProgressLine(config.epochs, quiet), report_seconds=0.25)
    except ValueError as exc:  # e.g. a batch larger than the training subset
        fail(str(exc))
    try:
        trainer.run()
    except Diverged as exc:
        fail(str(exc), code=1)
    return trainer


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    pin_blas_threads()
    try:
        data = load_mnist(args.data_dir)
    except DatasetError as exc:
        fail(str(exc))
    started = time.time()
    trainer = train(config, data, args.quiet)
    last, dtype = trainer.last, "float16" if args.float16 else "float32"
    assert last is not None
    figures = measure_stored(trainer.net, data, trainer.data, dtype)
    meta = {
        "name": Path(args.out).stem,
        "config": config.to_dict(),
        "command": "digit-studio " + shlex.join(args.raw_argv),
        "epochs_trained": last.epoch,
        **figures,
        "train_seconds": float(f"{last.train_seconds:.4g}"),  # 4 significant digits: epochs can take ms
        "wall_seconds": round(time.time() - started, 2),
        "dataset": data.checksums,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        path = save_model(args.out, trainer.net, meta, dtype=dtype)
    except OSError as exc:
        fail(f"cannot write {args.out}: {exc.strerror or exc}", code=1)
    val = figures["val_accuracy"]
    print(f"saved {path}: test accuracy {figures['test_accuracy']:.2%}"
          + (f", validation accuracy {val:.2%}" if val is not None else ""))
    return 0
