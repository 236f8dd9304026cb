"""The textbook formulation, kept only as the yardstick for bench/bench_train_speed.py.

A faithful per-example loop in the style of Nielsen's network.py: (784, 1) column vectors, float64,
backpropagation one example at a time, gradients summed over the mini-batch, then one SGD update.
The cost is the video's quadratic cost, so the step matches app.nn exactly (factor 2 included).
"""

# ruff: noqa: B905, E741  (kept as the textbook wrote it: zip without strict=, layer index `l`)
from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class ReferenceNetwork:
    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.sizes = sizes
        self.biases = [np.zeros((y, 1)) for y in sizes[1:]]
        self.weights = [rng.normal(0, np.sqrt(1 / x), (y, x)) for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, len(self.sizes)):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)

    @staticmethod
    def cost_derivative(output_activations, y):
        return 2 * (output_activations - y)  # the video's cost: sum of squares, no 1/2


def reference_epoch(net, images, labels, eta, batch_size, rng):
    """Run one epoch of the textbook loop over (n, 784) images; return nothing (trains net)."""
    data = [(images[i].reshape(784, 1).astype(np.float64), _vec(labels[i])) for i in range(len(labels))]
    order = rng.permutation(len(data))
    for k in range(0, len(data), batch_size):
        net.update_mini_batch([data[j] for j in order[k:k + batch_size]], eta)


def _vec(j):
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e
