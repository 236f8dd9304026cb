"""`digit-studio evaluate`: test accuracy, per-digit accuracy and the confusion matrix of a model."""

from __future__ import annotations

import argparse

import numpy as np

from app.training.mnist import DatasetError, load_mnist
from app.training.modelfile import ModelFileError, load_model

from .common import fail


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="measure a model on MNIST's 10,000 test images")
    p.add_argument("model", help="path to a .npz model file")
    p.add_argument("--data-dir", default=None, help="MNIST folder (default data/mnist or $DIGIT_STUDIO_DATA)")
    p.set_defaults(func=run)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n: int = 10) -> np.ndarray:
    """Return counts[true, predicted]."""
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def run(args: argparse.Namespace) -> int:
    try:
        net, meta = load_model(args.model)
        data = load_mnist(args.data_dir)
    except (ModelFileError, DatasetError) as exc:
        fail(str(exc))
    if net.sizes[0] != 784 or net.sizes[-1] != 10:
        fail(f"{args.model}: a {'-'.join(map(str, net.sizes))} network does not take 28x28 images to "
             "10 digits; MNIST needs 784 inputs and 10 outputs")
    predicted = net.predict(data.test.images).argmax(axis=1)
    labels = data.test.labels
    accuracy = float((predicted == labels).mean())
    print(f"model: {meta.get('name', args.model)}  {'-'.join(map(str, net.sizes))}  "
          f"{net.activation.name}/{net.cost.name}")
    print(f"test accuracy: {accuracy * 100:.2f}%")
    counts = confusion_matrix(labels, predicted)
    print("\nper-digit accuracy:")
    for digit in range(10):
        print(f"  {digit}: {counts[digit, digit] / counts[digit].sum():7.2%}  ({counts[digit].sum()} images)")
    print("\nconfusion matrix (rows: true digit, columns: predicted):")
    print("      " + "".join(f"{d:>6}" for d in range(10)))
    for digit in range(10):
        print(f"  {digit}:  " + "".join(f"{c:>6}" for c in counts[digit]))
    return 0
