"""The training step, arranged for speed: the maths of Network.backprop and one SGD update, computed
with as few NumPy calls as possible.

At the video's batch size of 10 a step does little arithmetic; its time goes into the number of NumPy
calls and the Python around them. So this module preallocates every buffer once per batch size, binds
each NumPy call to its arrays once (functools.partial) and runs the step as one closure over local
names; it stores each example as a column (z = W a + b, as in Nielsen's book) and each bias as the
weight of an extra input that is always 1 (the last column of Network.Wb), so that one np.dot on
contiguous operands gives z, and one more both dC/dW and dC/db; it computes sigma'(z) of every layer
in one pass over one buffer; it folds the step size, the batch mean and the cost's constant into the
output error, so that backpropagation, being linear in delta, hands back the update itself; and for a
sigmoid network it reads its inputs halved and keeps the hidden activations doubled or halved
(layer_scales), which saves calls when the sigmoid is computed from tanh(z/2). Every one of those
factors is a power of 2, so the weights come out the same, bit for bit, as with no scaling at all;
tests/test_speed_path.py checks this, and checks the step against Network.backprop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .network import Network

# (x_aug, y_t, scale) -> the output activations (batch, sizes[-1]), valid until the next call.
Step = Callable[[np.ndarray, np.ndarray, float], np.ndarray]
Calls = list[Callable[[], object]]

# NumPy's functions as module names, called with `out` passed positionally (no keyword to parse).
add, dot, multiply, subtract, tanh = np.add, np.dot, np.multiply, np.subtract, np.tanh


def _constant(value: float, dtype: np.dtype) -> np.ndarray:
    """Return a 0-d array: NumPy would convert a Python float at every call."""
    return np.array(value, dtype)


# The activations as lists of bound calls that write f(z) into `out` (z may be used as scratch),
# and their derivatives from the activation a = f(z). Each example is a column: z is (units, batch).
def sigmoid_calls(z: np.ndarray, out: np.ndarray, z_scale: float = 1.0, out_scale: float = 1.0) -> Calls:
    """sigma(z) = (1 + tanh(z/2)) / 2, from z times z_scale, written times out_scale (powers of 2):
    a z that arrives halved saves the first call, and 2 sigma = 1 + tanh(z/2) is one call, not two."""
    calls: Calls = []
    if z_scale != 0.5:
        calls.append(partial(multiply, z, _constant(0.5 / z_scale, z.dtype), z))
    calls.append(partial(tanh, z, z))
    if out_scale == 2.0:
        calls.append(partial(add, z, _constant(1.0, z.dtype), out))
    else:
        half = _constant(out_scale / 2, z.dtype)
        calls += [partial(multiply, z, half, out), partial(add, out, half, out)]
    return calls


def sigmoid_prime_calls(a: np.ndarray, out: np.ndarray, scale: np.ndarray | None = None) -> Calls:
    """sigma'(z) = (1 - a) a. When a holds s sigma (s: `scale`, one number or one per row), the same
    two calls give (s - a) a = s^2 sigma'(z)."""
    return [partial(subtract, _constant(1.0, a.dtype) if scale is None else scale, a, out),
            partial(multiply, out, a, out)]


def relu_calls(z: np.ndarray, out: np.ndarray) -> Calls:
    return [partial(np.maximum, z, _constant(0.0, z.dtype), out=out)]


def relu_prime_calls(a: np.ndarray, out: np.ndarray) -> Calls:
    return [partial(np.greater, a, _constant(0.0, a.dtype), out)]      # 1.0 where the neuron fired


def softmax_calls(z: np.ndarray, out: np.ndarray) -> Calls:
    """exp(z) / sum(exp(z)) per column, shifted by the column's max so that exp cannot overflow."""
    column = np.empty((1, z.shape[1]), z.dtype)
    return [partial(np.maximum.reduce, z, 0, None, column, True), partial(subtract, z, column, z),
            partial(np.exp, z, out), partial(np.add.reduce, out, 0, None, column, True),
            partial(np.divide, out, column, out)]


CALLS: dict[str, Callable[..., Calls]] = {"sigmoid": sigmoid_calls, "relu": relu_calls,
                                          "softmax": softmax_calls}
# Softmax has none: with cross-entropy, dC/dz is a - y (BP1 without sigma').
PRIME_CALLS: dict[str, Callable[..., Calls]] = {"sigmoid": sigmoid_prime_calls, "relu": relu_prime_calls}


def layer_scales(net: Network) -> list[float]:
    """Return f[0..L-1]: weight layer k of the step reads its input times f[k] (f[0]: the input
    batch, see input_batch); the output layer's activations are not scaled.

    Reading z already halved (f[k] = 1/2), or keeping a hidden layer's activations doubled
    (f[k + 1] = 2: 2 sigma = 1 + tanh(z/2)), saves one call each. Backpropagation stays exact if f
    alternates (f[k - 1] = 1 / f[k]): a layer stored times f[k] has (f[k] - a) a = f[k]^2 sigma'(z)
    as its sigma', which turns delta_{k-1} into f[k]^2 times itself, and every layer's gradient then
    comes out times the same f[L-1], which the step divides out of the output error. For the video's
    784-16-16-10 sigmoid network, f = [1/2, 2, 1/2]."""
    sigmoid = net.activation.name == "sigmoid" and net.cost.output.name == "sigmoid"
    return list(_scales(net.n_layers, sigmoid))


@cache
def _scales(L: int, sigmoid: bool) -> tuple[float, ...]:
    if not sigmoid:
        return (1.0,) * L

    def calls(f: list[float]) -> int:   # a multiply unless z comes halved, tanh, 1 or 2 calls out
        stored = f[1:] + [1.0]           # the scale each layer's activations are kept at
        return sum((f_in != 0.5) + 1 + (1 if f_out == 2.0 else 2)
                   for f_in, f_out in zip(f, stored, strict=True))

    options: list[list[float]] = []
    for top in (1.0, 0.5, 2.0):                  # 1.0 first: the plain form wins ties
        f = [top]
        while len(f) < L:
            f.insert(0, 1.0 / f[0])
        options.append(f)
    best = min(options, key=calls)
    return tuple(best)


def input_batch(net: Network, x: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Return a batch (batch, sizes[0]) as the step reads it: times `scale` (the net's input scale
    by default), with a last column of that scale, the input that carries the biases."""
    s = layer_scales(net)[0] if scale is None else scale
    x = np.asarray(x, net.dtype)
    out = np.full((x.shape[0], x.shape[1] + 1), s, dtype=net.dtype)
    np.multiply(x, np.array(s, net.dtype), out[:, :-1])
    return out


def check_input(net: Network, x_aug: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Return x_aug in the net's dtype if it is laid out as input_batch() makes it; else raise ValueError."""
    s = layer_scales(net)[0] if scale is None else scale
    if x_aug.dtype != net.dtype:  # np.dot writes into the step's buffers only from their own dtype
        x_aug = x_aug.astype(net.dtype)
    if x_aug.ndim != 2 or x_aug.shape[1] != net.sizes[0] + 1 or x_aug[0, -1] != s:
        raise ValueError(f"the training step reads inputs of shape (batch, {net.sizes[0] + 1}), "
                         f"times {s} with a last column of {s}: make them with Network.input_batch(x)")
    return x_aug


def views(flat: np.ndarray, shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    """Return consecutive reshaped views of a flat vector (they share its memory)."""
    out, offset = [], 0
    for rows, cols in shapes:
        out.append(flat[offset:offset + rows * cols].reshape(rows, cols))
        offset += rows * cols
    return out


def gradient_step(net: Network, batch: int, grad: np.ndarray) -> Step:
    """Return the step for mini-batches of `batch` examples: a function (x_aug, y_t, scale) that
    writes into `grad` (shaped like net.params) the gradient of the cost summed over the batch,
    divided by cost.gradient_scale and multiplied by `scale` (SGD passes -rate * gradient_scale / m,
    so that grad holds the update itself), and returns the output activations (batch, sizes[-1]).
    It checks nothing: x_aug comes from input_batch() (contiguous rows), y_t is y.T (one column per
    example)."""
    f = layer_scales(net)
    dt, sizes, L = net.dtype, net.sizes, net.n_layers
    unscale = 1.0 / f[-1]          # every gradient comes out multiplied by f[-1]: see layer_scales
    # Every layer's activations, each followed by its bias input (a row of f[k + 1], the scale at
    # which the next layer reads them) except the output's, stacked in one buffer A, so that sigma'(z)
    # of all the layers (in S) is one pass over it.
    rows = [n + 1 for n in sizes[1:-1]] + [sizes[-1]]
    A, S = np.empty((sum(rows), batch), dt), np.zeros((sum(rows), batch), dt)
    tops = np.cumsum([0] + rows)
    a_aug = [A[top:top + r] for top, r in zip(tops, rows, strict=False)]     # a with its bias input
    a = [A[top:top + n] for top, n in zip(tops, sizes[1:], strict=False)]    # (n_l, batch)
    s = [S[top:top + n] for top, n in zip(tops, sizes[1:], strict=False)]    # sigma'(z_l)
    row_scale = np.ones((sum(rows), batch), dt)    # f[k + 1] on every row of layer k, at A's shape
    for k in range(L - 1):
        row_scale[tops[k]:tops[k + 1]] = f[k + 1]
        A[tops[k + 1] - 1] = f[k + 1]
    z = [np.empty((n, batch), dt) for n in sizes[1:]]
    # Backpropagating through Wb^T (contiguous, unlike W^T) gives one row too many, the bias's: each
    # delta lives in the first rows of its buffer.
    delta = [np.empty((r + 1 if k < L - 1 else r, batch), dt)[:r] for k, r in enumerate(sizes[1:])]
    G = views(grad, [wb.shape for wb in net.Wb])                            # dC/dWb, in grad
    names = [net.activation.name] * (L - 1) + [net.cost.output.name]

    forward: Calls = []
    for k in range(L):
        if k:
            forward.append(partial(dot, net.Wb[k], a_aug[k - 1], z[k]))   # z = W a + b
        out_scale = f[k + 1] if k < L - 1 else 1.0
        if f[k] == out_scale == 1.0:
            forward += CALLS[names[k]](z[k], a[k])                         # a = sigma(z)
        else:                                    # f[k] z in, f[k + 1] sigma(z) out (sigmoid only)
            forward += CALLS[names[k]](z[k], a[k], f[k], out_scale)
    # sigma'(z) of the hidden layers in one pass, with the output layer's when it is the same function.
    hidden, output = PRIME_CALLS[net.activation.name], PRIME_CALLS.get(names[-1])
    end = sum(rows[:-1])
    if hidden is output:
        forward += hidden(A, S) if set(f) == {1.0} else hidden(A, S, row_scale)
    else:
        if end:
            forward += hidden(A[:end], S[:end])
        if output is not None:
            forward += output(A[end:], S[end:])

    factor = np.array(1.0, dt)                   # the step's factor, on delta_L
    # BP1: delta_L = (a - y) (the step subtracts y) * sigma'(z_L) for the quadratic cost, times factor.
    backward: Calls = [partial(multiply, delta[-1], s[-1], delta[-1])] if net.cost.name == "quadratic" else []
    backward.append(partial(multiply, delta[-1], factor, delta[-1]))
    for k in range(L - 1, 0, -1):                                        # from the top
        backward += [
            partial(dot, delta[k], a_aug[k - 1].T, G[k]),                # BP3 and BP4 in one product
            partial(dot, net.Wb[k].T, delta[k], delta[k - 1].base),      # BP2: W^T delta (+ a bias row)
            partial(multiply, delta[k - 1], s[k - 1], delta[k - 1]),     # ... * sigma'(z_{l-1})
        ]
    return _compile(forward, backward, factor, unscale, net.Wb[0], z[0], a[-1], delta[-1], delta[0], G[0])


def _compile(forward: Calls, backward: Calls, factor: np.ndarray, unscale: float, first: np.ndarray,
             z_0: np.ndarray, a_out: np.ndarray, delta_out: np.ndarray, delta_0: np.ndarray,
             G_0: np.ndarray) -> Step:
    """Return the step as one function over local names (the cheapest names for Python to reach)."""
    forward_calls, backward_calls, out = tuple(forward), tuple(backward), a_out.T
    last = [1.0]                                # the factor last written into `factor`

    def run(x_aug: np.ndarray, y_t: np.ndarray, scale: float) -> np.ndarray:
        # The two products with the input are called here rather than bound: the caller may pass a
        # new array at every step (the Trainer passes rows of its epoch's array, without a copy).
        dot(first, x_aug.T, z_0)             # z_1 = W a_0 + b: one column per example
        for call in forward_calls:           # every other layer's z and a, then every sigma'(z)
            call()
        subtract(a_out, y_t, delta_out)      # a - y, then (in backward) delta_L = dC/dz_L,
        scale *= unscale                     # times scale: scaling delta_L scales every
        if scale != last[0]:                 # gradient (backpropagation is linear)
            factor[()] = last[0] = scale
        for call in backward_calls:          # every layer's delta and dC/dW, from the top
            call()
        dot(delta_0, x_aug, G_0)             # dC/dW and dC/db of the first layer (BP3, BP4)
        return out
    return run
