"""Activation and cost functions: small swappable objects, as in Nielsen's network2.py.

Rows are examples: z and a are (batch, units). An activation has `fn(z)` and `prime(z)`; a cost has
`fn(a, y)` (the cost of each example) and `delta(z, a, y)` (BP1: the error of the output layer),
and names the `output` activation it is paired with.
"""

from __future__ import annotations

import numpy as np


class Sigmoid:
    name = "sigmoid"

    @staticmethod
    def fn(z: np.ndarray) -> np.ndarray:
        """Return sigma(z) = 1 / (1 + exp(-z)), written as (1 + tanh(z/2)) / 2: the same function,
        but tanh cannot overflow for any z, where exp(-z) does below z = -88 in float32."""
        return 0.5 * np.tanh(0.5 * z) + 0.5

    @staticmethod
    def prime(z: np.ndarray) -> np.ndarray:
        """Return sigma'(z) = sigma(z) (1 - sigma(z))."""
        s = Sigmoid.fn(z)
        return s * (1 - s)


class ReLU:
    name = "relu"

    @staticmethod
    def fn(z: np.ndarray) -> np.ndarray:
        """Return max(z, 0)."""
        return np.maximum(z, 0)

    @staticmethod
    def prime(z: np.ndarray) -> np.ndarray:
        """Return 1 where the neuron fired (z > 0), else 0."""
        return (z > 0).astype(z.dtype)


class Softmax:
    """The output layer for the cross-entropy cost: turns each row of scores into probabilities."""

    name = "softmax"

    @staticmethod
    def fn(z: np.ndarray) -> np.ndarray:
        """Return exp(z) / sum(exp(z)) along each row, shifted by the row's max so exp cannot overflow."""
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


class QuadraticCost:
    """C = (1/n) sum_x ||a(x) - y(x)||^2, the video's cost: squared differences, summed, averaged
    (no 1/2, so its derivative has a factor 2)."""

    name = "quadratic"
    output = Sigmoid
    gradient_scale = 2.0    # dC_x/da = 2 (a - y): the fast step folds this constant into its rate

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the cost of each example (rows of a and y), shape (n,)."""
        diff = a - y
        return np.einsum("ij,ij->i", diff, diff)

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the output error dC_x/dz = 2 (a - y) * sigma'(z), one row per example."""
        return 2 * (a - y) * Sigmoid.prime(z)


class CrossEntropyCost:
    """C = -(1/n) sum_x log a_y(x), the log of the probability given to the right digit, with a
    softmax output layer."""

    name = "cross_entropy"
    output = Softmax
    gradient_scale = 1.0

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the cost of each example, shape (n,); a tiny floor keeps log(0) finite."""
        p = np.einsum("ij,ij->i", a, y)
        return -np.log(np.maximum(p, 1e-12))

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the output error dC_x/dz = a - y: softmax and cross-entropy together cancel
        sigma'(z), which is why they are paired."""
        return a - y


ACTIVATIONS = {f.name: f for f in (Sigmoid, ReLU)}
COSTS = {c.name: c for c in (QuadraticCost, CrossEntropyCost)}
