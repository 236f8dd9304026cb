"""The "plain vectorised" loop, the second yardstick for bench/bench_train_speed.py.

What a careful first vectorisation of the textbook looks like: a whole mini-batch per step (rows are
examples), float32, straightforward NumPy that allocates its temporaries, no workspace, no fused or
in-place calls. Same network, cost and update as app.nn (the video's quadratic cost, factor 2 included).
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))  # clipped so float32 exp cannot overflow


class PlainNetwork:
    def __init__(self, sizes, seed=0, dtype=np.float32):
        rng = np.random.default_rng(seed)
        self.weights = [rng.normal(0, np.sqrt(1 / n_in), (n_out, n_in)).astype(dtype)
                        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]
        self.biases = [np.zeros(n_out, dtype) for n_out in sizes[1:]]

    def update_mini_batch(self, x, y, eta):
        """One SGD step on a batch x (m, 784) with one-hot targets y (m, 10)."""
        activations = [x]
        for w, b in zip(self.weights, self.biases, strict=True):
            activations.append(sigmoid(activations[-1] @ w.T + b))
        a = activations[-1]
        delta = 2 * (a - y) * a * (1 - a)
        for k in range(len(self.weights) - 1, -1, -1):     # k: weight layer, from the top
            nabla_w = delta.T @ activations[k]
            nabla_b = delta.sum(axis=0)
            if k > 0:
                a_k = activations[k]
                delta = (delta @ self.weights[k]) * a_k * (1 - a_k)
            self.weights[k] -= (eta / len(x)) * nabla_w
            self.biases[k] -= (eta / len(x)) * nabla_b


def plain_steps(net, images, targets, order, eta, batch_size):
    """Train on images[order] (float32 (n, 784)) in mini-batches; return nothing (trains net)."""
    for k in range(0, len(order) - batch_size + 1, batch_size):
        rows = order[k:k + batch_size]
        net.update_mini_batch(images[rows], targets[rows], eta)
