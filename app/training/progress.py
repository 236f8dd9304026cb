"""What a run tells its caller: a report (Progress), with the figures an evaluation measures, and why
it ended early (Diverged). app.training.trainer makes them; the server and the command line read them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.nn.network import Network

from .epochs import PROBE_SIZE, Prepared

# The figures an evaluation measures; a report made without one carries the latest forward.
EVALUATED = ("test_cost", "test_accuracy", "val_cost", "val_accuracy", "train_cost", "train_accuracy")


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


def evaluation(data: Prepared, net: Network) -> dict[str, float]:
    """Return the EVALUATED figures of `net`: cost and accuracy on the test set, the validation set
    (when the run keeps one) and the fixed sample of training examples."""
    figures: dict[str, float] = {}
    with np.errstate(all="ignore"):
        figures["test_cost"], figures["test_accuracy"] = net.evaluate(data.test_x, data.test_labels)
        if len(data.val_labels):
            figures["val_cost"], figures["val_accuracy"] = data.evaluate(net, data.val_idx, data.val_labels)
        figures["train_cost"], figures["train_accuracy"] = data.evaluate(net, *data.sample)
    return figures
