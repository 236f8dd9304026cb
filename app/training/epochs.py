"""What one run trains and is measured on, chosen by its config (Prepared, the probe), and each
epoch's training inputs, shuffled (and jittered) on a helper thread (EpochFeeder)."""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from app.nn.network import Network

from .augment import augment
from .config import TrainConfig
from .mnist import Mnist

EVAL_SAMPLE = 10_000      # training examples re-scored at each evaluation (train cost/accuracy)
SHUFFLE_BLOCK = 4096      # rows gathered at a time when an epoch's inputs are shuffled
PROBE_SIZE, PROBE_SEED = 1000, 1000   # the fixed test images measured at every report


EVAL_CHUNK = 500           # rows gathered at a time to evaluate a set held as rows of shared images


@dataclass
class Prepared:
    """The examples one run trains and evaluates on, as chosen by its config. No image is copied for
    the run's lifetime: its training, validation and sample images are rows of the shared `images`
    (data.train's), gathered a chunk at a time when evaluated, and the run's EpochFeeder gathers the
    training rows straight into each epoch's shuffled inputs. What a run holds is indices and labels."""

    images: np.ndarray          # all of data.train's images, shared by every run
    train_idx: np.ndarray       # the rows of `images` this run trains on, in training-set order
    train_labels: np.ndarray
    val_idx: np.ndarray         # the validation rows of `images`, in increasing order
    val_labels: np.ndarray
    test_x: np.ndarray
    test_labels: np.ndarray
    sample_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))  # of train_idx

    @property
    def probe(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (images, labels) of the probe: the same PROBE_SIZE test images for every run."""
        return probe_set(self.test_x, self.test_labels)

    @property
    def train_x(self) -> np.ndarray:
        """The training images in training-set order (a copy, made on each call)."""
        return self.images[self.train_idx]

    @property
    def val_x(self) -> np.ndarray:
        """The validation images (a copy, made on each call)."""
        return self.images[self.val_idx]

    @cached_property
    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (rows of `images`, labels) of the fixed sample of training examples re-scored at each
        evaluation, the rows in increasing order (gathering them is quicker so)."""
        rows, labels = self.train_idx[self.sample_idx], self.train_labels[self.sample_idx]
        order = np.argsort(rows, kind="stable")
        return rows[order], labels[order]

    def evaluate(self, net: Network, rows: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """Return (mean cost, accuracy) of `net` on images[rows], gathered EVAL_CHUNK rows at a time."""
        cost, correct = 0.0, 0.0
        for i in range(0, len(rows), EVAL_CHUNK):
            part = slice(i, i + EVAL_CHUNK)
            c, a = net.evaluate(self.images.take(rows[part], axis=0), labels[part])
            n = len(labels[part])
            cost, correct = cost + c * n, correct + a * n
        return cost / len(rows), correct / len(rows)


_probes: dict[int, tuple[weakref.ref, tuple[np.ndarray, np.ndarray]]] = {}
_probes_lock = threading.Lock()


def probe_set(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the probe: the first PROBE_SIZE of a seeded permutation of the test set; one copy per
    test set, shared by every run that measures on it."""
    with _probes_lock:
        held = _probes.get(id(images))
        if held is not None and held[0]() is images:
            return held[1]
        rows = np.random.default_rng(PROBE_SEED).permutation(len(labels))[:PROBE_SIZE]
        probe = images[rows], labels[rows]
        for key in [k for k, (ref, _) in _probes.items() if ref() is None]:
            del _probes[key]
        _probes[id(images)] = (weakref.ref(images), probe)
        return probe


def prepare(config: TrainConfig, data: Mnist) -> Prepared:
    """Return the run's training subset, validation split and (possibly shuffled) labels, all seeded."""
    rng = np.random.default_rng([config.seed, 1])
    order = rng.permutation(len(data.train))
    val_idx = np.sort(order[:config.validation_size])
    train_idx = order[config.validation_size:]
    if config.train_subset is not None:
        train_idx = train_idx[:config.train_subset]
    train_labels = data.train.labels[train_idx]
    if config.label_mode == "shuffled":
        # Zhang et al. 2017: a fixed random relabelling; nothing about the image predicts its label.
        train_labels = rng.permutation(train_labels)
    sample = rng.permutation(len(train_idx))[:EVAL_SAMPLE]
    return Prepared(data.train.images, train_idx, train_labels, val_idx, data.train.labels[val_idx],
                    data.test.images, data.test.labels, sample)


class EpochFeeder:
    """Each epoch's training inputs, shuffled into the epoch's order (with the bias input 1 as a last
    column) and jittered when the run augments, made on a helper thread while the previous epoch trains.

    Why: a step that gathers its 10 random rows out of the whole training set pays for a page walk and
    cache misses per row, a good part of a small step (docs/performance.md); reading them in order
    from a pre-shuffled copy costs a fraction of that, and the helper does the gathering (and the
    jitter, slower than training on the jittered images) on the other core, NumPy releasing the GIL.
    Two buffers take turns: the epoch trains on one while the helper fills the other.

    The random numbers are drawn in the same order as one thread would (this epoch's jitter, then its
    shuffle, then the next epoch's jitter and shuffle...): the training thread draws nothing while
    the helper works, so the results are the same, bit for bit.
    """

    def __init__(self, images: np.ndarray, rows: np.ndarray, rng: np.random.Generator, strength: float,
                 scale: float = 1.0):
        """The epochs of the training images `images[rows]`, in that order before shuffling, times
        `scale` (with a last column of `scale`), as Network.input_batch makes them."""
        self.images, self.rows, self.rng, self.strength = images, rows, rng, strength
        self.scale = np.float32(scale)
        self._buffers: list[np.ndarray] = []
        self._turn = 0
        self._thread: threading.Thread | None = None
        self._result: tuple[np.ndarray, np.ndarray] | None = None
        self._error: BaseException | None = None

    def _make(self, threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Return (inputs in the epoch's order, times `scale`, with a last column of `scale`, and the
        order) in the next buffer."""
        n = len(self.rows)
        if len(self._buffers) < 2:
            self._buffers.append(np.full((n, self.images.shape[1] + 1), self.scale, np.float32))
        out = self._buffers[self._turn % len(self._buffers)]
        self._turn += 1
        source, rows = self.images, self.rows     # the shared images, through this run's rows,
        if self.strength > 0:                     # or jittered copies of them, in the same order
            source, rows = augment(source[rows], self.rng, self.strength, threads=threads), np.arange(n)
        order = self.rng.permutation(n)
        picks = rows[order]                       # the rows of `source`, in the epoch's order
        for c in range(0, n, SHUFFLE_BLOCK):      # in blocks: no second full-size temporary
            block = slice(c, c + SHUFFLE_BLOCK)
            np.multiply(source.take(picks[block], axis=0), self.scale, out[block, :-1])
        return out, order

    def prepare(self) -> None:
        """Start making the next epoch's inputs in the background."""
        self._thread = threading.Thread(target=self._work, name="epoch-feeder", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            self._result = self._make()
        except BaseException as exc:  # handed to the training thread by take()
            self._error = exc

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the prepared (inputs, order); made now if none are on their way (the first epoch:
        nothing trains yet, so the jitter has both cores)."""
        if self._thread is None:
            return self._make(threads=min(2, os.cpu_count() or 1))
        self._thread.join()
        self._thread, result, error = None, self._result, self._error
        self._result = self._error = None
        if error is not None:
            raise error
        assert result is not None
        return result

    def close(self) -> None:
        """Wait for inputs still on their way (a stopped run), so no thread outlives run()."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
