"""The test digits a network misreads, and its confusion matrix (lesson 9).

The video, of its 96% network: look at the examples it gets wrong and you feel compelled to cut it a
little slack. Most confident mistakes come first: those are the ones that look most like the digit
the network named.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.nn.network import Network


@dataclass(frozen=True)
class Reading:
    answers: np.ndarray      # (n,) the digit the network names for each image
    confidence: np.ndarray   # (n,) its output activation for that digit
    on_label: np.ndarray     # (n,) its output activation for the right digit
    confusion: np.ndarray    # (10, 10) counts: row = right digit, column = the network's answer


def read_all(net: Network, images: np.ndarray, labels: np.ndarray, batch: int = 10_000) -> Reading:
    """Return what the network answers for every image, how sure it is, and the confusion matrix."""
    outputs = np.concatenate([net.predict(images[i:i + batch]) for i in range(0, len(images), batch)])
    answers = outputs.argmax(axis=1)
    rows = np.arange(len(labels))
    n = net.sizes[-1]
    confusion = np.bincount(labels * n + answers, minlength=n * n).reshape(n, n)
    return Reading(answers, outputs[rows, answers], outputs[rows, labels], confusion)


def pick(reading: Reading, labels: np.ndarray, right: int | None, answer: int | None,
         limit: int) -> tuple[np.ndarray, int]:
    """Return (indices of at most `limit` images, how many match) for one cell of the confusion
    matrix, or every mistake when right and answer are None. Mistakes come most confident first;
    the digits of a diagonal cell (read correctly) least confident first, the near misses."""
    chosen = reading.answers != labels if right is None and answer is None else np.ones(len(labels), bool)
    if right is not None:
        chosen &= labels == right
    if answer is not None:
        chosen &= reading.answers == answer
    index = np.flatnonzero(chosen)
    correct_cell = right is not None and right == answer
    key = reading.confidence[index] if correct_cell else -reading.confidence[index]
    order = np.argsort(key, kind="stable")
    return index[order][:limit], len(index)
