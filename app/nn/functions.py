"""Activation and cost functions: small swappable objects, as in Nielsen's network2.py.

Every function writes into a preallocated `out` array: at the video's batch size of 10 the arithmetic
is tiny and the time goes into NumPy calls and allocations, so each step here is one in-place ufunc.
"""

from __future__ import annotations

import numpy as np

# exp(-z) overflows float32 beyond |z| ~ 88, and huge |z| also produces denormals that slow the
# FPU down; sigmoid(+-30) is 1 or ~1e-13 in float32, so clipping changes no meaningful result.
# Constants are 0-d arrays of the data's own dtype: NumPy converts a Python float on every call,
# which costs more than the arithmetic on a (10, 16) batch (and a float64 0-d array would promote
# float32 data). np.maximum + np.minimum are ~4x faster than np.clip here.
class _Constants:
    def __init__(self, dtype: np.dtype):
        self.lo, self.hi = np.array(-30.0, dtype), np.array(30.0, dtype)
        self.zero, self.one = np.array(0.0, dtype), np.array(1.0, dtype)


_K = {np.dtype(t): _Constants(np.dtype(t)) for t in (np.float32, np.float64)}


class Sigmoid:
    name = "sigmoid"

    @staticmethod
    def fn(z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Return sigma(z) = 1 / (1 + exp(-z)) written into out (z is used as scratch)."""
        k = _K[z.dtype]
        np.maximum(z, k.lo, out=z)
        np.minimum(z, k.hi, out=z)
        np.negative(z, out=z)
        np.exp(z, out=z)
        np.add(z, k.one, out=z)
        return np.reciprocal(z, out=out)

    @staticmethod
    def multiply_prime(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> None:
        """delta *= sigma'(z), using sigma'(z) = a (1 - a) so z need not be kept."""
        np.subtract(_K[a.dtype].one, a, out=scratch)
        scratch *= a
        delta *= scratch


class ReLU:
    name = "relu"

    @staticmethod
    def fn(z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Return max(z, 0) written into out."""
        return np.maximum(z, _K[z.dtype].zero, out=out)

    @staticmethod
    def multiply_prime(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> None:
        """delta *= relu'(z): 1 where the neuron fired (a > 0), else 0."""
        np.greater(a, _K[a.dtype].zero, out=scratch)  # scratch is float: True -> 1.0
        delta *= scratch


class Softmax:
    """Output layer for the cross-entropy cost: turns scores into probabilities."""

    name = "softmax"

    @staticmethod
    def fn(z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Return exp(z) / sum(exp(z)) per row, shifted by the row max so exp cannot overflow."""
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out


class QuadraticCost:
    """C = (1/n) sum_x ||a(x) - y(x)||^2, the video's cost: squared differences, summed, averaged."""

    name = "quadratic"
    output = Sigmoid

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the cost of each example (rows of a and y), shape (n,)."""
        diff = a - y
        return np.einsum("ij,ij->i", diff, diff)

    @staticmethod
    def delta(a: np.ndarray, y: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        """Return dC_x/dz of the output layer, up to the factor 2 that the optimiser folds into
        its step size: (a - y) * sigma'(z)."""
        np.subtract(a, y, out=out)
        Sigmoid.multiply_prime(out, a, scratch)
        return out

    gradient_scale = 2.0  # d/da ||a - y||^2 = 2 (a - y)


class CrossEntropyCost:
    """C = -(1/n) sum_x log a_y(x), with a softmax output layer."""

    name = "cross_entropy"
    output = Softmax

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the cost of each example, shape (n,); tiny floor so log(0) is finite."""
        p = np.einsum("ij,ij->i", a, y)
        return -np.log(np.maximum(p, 1e-12))

    @staticmethod
    def delta(a: np.ndarray, y: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        """Return dC_x/dz of the output layer: softmax and cross-entropy combine to a - y."""
        return np.subtract(a, y, out=out)

    gradient_scale = 1.0


ACTIVATIONS = {f.name: f for f in (Sigmoid, ReLU)}
COSTS = {c.name: c for c in (QuadraticCost, CrossEntropyCost)}
