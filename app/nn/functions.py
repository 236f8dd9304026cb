"""Activation and cost functions: small swappable objects, as in Nielsen's network2.py.

Every function writes into a preallocated `out` array: at the video's batch size of 10 the arithmetic
is tiny and the time goes into NumPy calls (~0.5 us each), so each step here is one in-place ufunc
and the functions use as few of them as the maths allows.

An activation is written once, as `calls(z, out)`: the list of its NumPy calls bound to their arrays
(functools.partial), which `fn` runs. The training step binds them to its buffers once and then only
runs the list, so a step pays for the arithmetic and not for looking functions up.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

# The ufuncs as module names, called with `out` passed positionally: at (16, 10) a call costs
# ~0.4-0.8 us, and looking up np.multiply and parsing an out= keyword add ~0.1 us to each.
add, multiply, subtract, tanh = np.add, np.multiply, np.subtract, np.tanh
maximum, greater = np.maximum, np.greater


# Constants are 0-d arrays of the data's own dtype: NumPy converts a Python float on every call,
# which costs more than the arithmetic on a (10, 16) batch (and a float64 0-d array would promote
# float32 data).
class _Constants:
    def __init__(self, dtype: np.dtype):
        self.zero, self.half, self.one = (np.array(v, dtype) for v in (0.0, 0.5, 1.0))


_K = {np.dtype(t): _Constants(np.dtype(t)) for t in (np.float32, np.float64)}


Calls = list[Callable[[], object]]


class Activation:
    """A function applied to each layer's z. Subclasses give `calls` and `prime_calls`."""

    name = ""

    @staticmethod
    def calls(z: np.ndarray, out: np.ndarray) -> Calls:
        raise NotImplementedError

    # The calls that write sigma'(z) into out from the activation a = sigma(z); None for an output
    # function whose cost never needs sigma'. (Sigmoid's take a third argument: see there.)
    prime_calls: Callable[..., Calls] | None = None

    @classmethod
    def fn(cls, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Write sigma(z) into out and return it (z may be used as scratch)."""
        for call in cls.calls(z, out):
            call()
        return out

    @classmethod
    def prime(cls, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Write sigma'(z) into out, from a = sigma(z), and return it."""
        assert cls.prime_calls is not None
        for call in cls.prime_calls(a, out):
            call()
        return out


class Sigmoid(Activation):
    name = "sigmoid"

    @staticmethod
    def calls(z: np.ndarray, out: np.ndarray, z_scale: float = 1.0, out_scale: float = 1.0) -> Calls:
        """sigma(z) = 1 / (1 + exp(-z)), computed as (1 + tanh(z/2)) / 2, the same function: tanh is
        bounded, so unlike exp(-z) it cannot overflow for any z and needs no clipping (4 calls
        instead of 6), and saturated neurons give exactly 0 or 1 rather than denormals that would
        slow the FPU down. Float32 error ~6e-8.

        The training step may hand over z multiplied by z_scale and ask for sigma times out_scale
        (both powers of 2, so the results are exact multiples): a z that arrives already halved saves
        the first call, and 2 sigma = 1 + tanh(z/2) is one call instead of two (see network.py)."""
        calls: Calls = []
        if z_scale != 0.5:
            calls.append(partial(multiply, z, np.array(0.5 / z_scale, z.dtype), z))
        calls.append(partial(tanh, z, z))
        if out_scale == 2.0:
            calls.append(partial(add, z, _K[z.dtype].one, out))
        else:
            half = np.array(out_scale / 2, z.dtype)
            calls += [partial(multiply, z, half, out), partial(add, out, half, out)]
        return calls

    @staticmethod
    def prime_calls(a: np.ndarray, out: np.ndarray, scale: np.ndarray | None = None) -> Calls:  # type: ignore[override]
        """sigma'(z) = a (1 - a). When a holds s sigma (s: `scale`, a number or one per row), the
        same two calls give (s - a) a = s^2 sigma'(z)."""
        return [partial(subtract, _K[a.dtype].one if scale is None else scale, a, out),
                partial(multiply, out, a, out)]


class ReLU(Activation):
    name = "relu"

    @staticmethod
    def calls(z: np.ndarray, out: np.ndarray) -> Calls:
        """max(z, 0) (np.maximum wants out= by name)."""
        return [partial(maximum, z, _K[z.dtype].zero, out=out)]

    @staticmethod
    def prime_calls(a: np.ndarray, out: np.ndarray) -> Calls:  # type: ignore[override]
        """relu'(z): 1 where the neuron fired (a > 0), else 0 (out is float: True -> 1.0)."""
        return [partial(greater, a, _K[a.dtype].zero, out)]


class Softmax(Activation):
    """Output layer for the cross-entropy cost: turns scores into probabilities. Unlike the
    element-wise functions it needs to know the layout: z is (units, batch), one column per example.
    No prime_calls: with cross-entropy, dC/dz is simply a - y."""

    name = "softmax"

    @staticmethod
    def calls(z: np.ndarray, out: np.ndarray) -> Calls:
        """exp(z) / sum(exp(z)) per column, shifted by the column max so exp cannot overflow."""
        column = np.empty((1, z.shape[1]), z.dtype)
        return [partial(np.maximum.reduce, z, 0, None, column, True), partial(subtract, z, column, z),
                partial(np.exp, z, out), partial(np.add.reduce, out, 0, None, column, True),
                partial(np.divide, out, column, out)]


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
    def delta_calls(out: np.ndarray, prime: np.ndarray | None) -> Calls:
        """The calls that turn out = a - y into dC_x/dz of the output layer, up to the factor 2 that
        the optimiser folds into its step size: (a - y) * sigma'(z). `prime` holds sigma'(z)."""
        return [partial(multiply, out, prime, out)]

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
    def delta_calls(out: np.ndarray, prime: np.ndarray | None) -> Calls:
        """None: softmax and cross-entropy combine to dC_x/dz = a - y, which out holds already."""
        return []

    gradient_scale = 1.0


ACTIVATIONS = {f.name: f for f in (Sigmoid, ReLU)}
COSTS = {c.name: c for c in (QuadraticCost, CrossEntropyCost)}
