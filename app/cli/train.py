"""`digit-studio train`: train a network on MNIST with a live progress line, then save it."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.nn.functions import ACTIVATIONS, COSTS
from app.nn.network import Network
from app.nn.optim import SCHEDULES
from app.training.config import LABEL_MODES, TrainConfig
from app.training.mnist import DatasetError, Mnist, load_mnist
from app.training.modelfile import save_model
from app.training.threads import pin_blas_threads
from app.training.trainer import Diverged, Prepared, Progress, Trainer

from .common import fail, layer_sizes, positive_float, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a network and save it as a model file")
    d = TrainConfig()
    p.add_argument("--hidden", type=layer_sizes, default=d.hidden, help="hidden sizes, e.g. 16,16")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default=d.activation)
    p.add_argument("--cost", choices=sorted(COSTS), default=d.cost)
    p.add_argument("--lr", type=positive_float, default=d.learning_rate, help="learning rate (eta)")
    p.add_argument("--schedule", choices=SCHEDULES, default=d.schedule)
    p.add_argument("--warmup", type=float, default=d.warmup, help="fraction of training to warm up")
    p.add_argument("--momentum", type=float, default=d.momentum)
    p.add_argument("--l2", type=float, default=d.l2)
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    p.add_argument("--epochs", type=positive_int, default=d.epochs)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--train-subset", type=positive_int, default=None, help="train on the first N examples")
    p.add_argument("--validation-size", type=int, default=d.validation_size)
    p.add_argument("--labels", choices=LABEL_MODES, default=d.label_mode)
    p.add_argument("--augment", type=float, default=d.augment, help="augmentation strength, 0 = none")
    p.add_argument("--average", type=float, default=d.average,
                   help="keep and save a moving average of the weights with this decay (e.g. 0.99), 0 = off")
    p.add_argument("--float16", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--data-dir", default=None, help="MNIST folder (default data/mnist or $DIGIT_STUDIO_DATA)")
    p.add_argument("--out", default="var/models/model.npz",
                   help="where to save the model (default var/models/model.npz; "
                        "models/ holds the shipped ones)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    config = TrainConfig(hidden=args.hidden, activation=args.activation, cost=args.cost,
                         learning_rate=args.lr, schedule=args.schedule, warmup=args.warmup,
                         momentum=args.momentum, l2=args.l2, batch_size=args.batch_size, epochs=args.epochs,
                         seed=args.seed, train_subset=args.train_subset,
                         validation_size=args.validation_size, label_mode=args.labels, augment=args.augment,
                         average=args.average)
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
