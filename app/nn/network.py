"""A fully connected network in NumPy: forward pass and backpropagation over a mini-batch.

Rows are examples. Layer l maps a (batch, n_l) activation to (batch, n_{l+1}) by z = a W^T + b, then
a' = sigma(z). Row j of W[0] is hidden neuron j's 784 incoming weights: its 28x28 picture.

Where we depart from the textbook, for speed (the maths is unchanged):
- all weights and biases live in one flat vector `params`, and W[l], b[l] are views into it, so one
  vectorised update moves every parameter at once;
- each bias is stored as the weight of an extra input that is always 1 (the last column of Wb[l]),
  so one matrix product computes a W^T + b and one more gives both dC/dW and dC/db;
- gradient() works on transposes (one column per example, as in Nielsen's book) in preallocated
  buffers, computes sigma'(z) of every layer in one pass, and can fold the optimiser's step size
  into the output error, so that backpropagation hands back the update itself. At the video's batch
  size of 10 the time goes into the number of NumPy calls, not into arithmetic: a step is 28 calls
  (3 + 12 forward, 2 for every sigma', 3 for the output error, 7 backward, 1 update), bound to their
  buffers once (functools.partial) so that a step only runs a list of them, with every operand
  contiguous (a transposed or strided operand costs NumPy ~0.5-1 us more on these shapes).
  Measured on a 2-core VM (bench/bench_train_speed.py), ~38 us a step at best: the two 785-wide
  products take 15 us, the update 2 us, the gather of the batch 1 us, the other 24 calls ~0.4-1 us
  each, and Python ~3 us. Binding the calls and the contiguous operands saved ~10% over calling
  them one by one from loops over the layers. Tried and dropped, because they measured no faster:
  a straight-line step written for the 3-layer case only; uint8 inputs (a quarter of the memory
  traffic, one more call); gathering the next 100 steps' images on a second thread (the Trainer
  instead shuffles each whole epoch on its helper thread: app/training/trainer.py); np.matmul and
  np.einsum (slower than np.dot at these sizes); padding 785 to a multiple of 16. Exp-based sigmoid
  would save ~1 us but overflows without one more call to clip.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from .functions import ACTIVATIONS, COSTS

dot, multiply = np.dot, np.multiply  # called with `out` positionally: see the module docstring


class Network:
    def __init__(self, sizes: Sequence[int] = (784, 16, 16, 10), activation: str = "sigmoid",
                 cost: str = "quadratic", seed: int = 0, dtype: npt.DTypeLike = np.float32,
                 params: np.ndarray | None = None):
        """A network with the given layer sizes. Without `params`, weights are drawn from
        N(0, gain/fan_in) (Xavier for sigmoid, He for ReLU) from `seed`, and biases start at 0."""
        if len(sizes) < 2 or any(int(n) < 1 for n in sizes):
            raise ValueError(f"layer sizes must be at least two positive integers, got {list(sizes)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; choose from {sorted(COSTS)}")
        self.sizes = [int(n) for n in sizes]
        self.activation, self.cost = ACTIVATIONS[activation], COSTS[cost]
        self.dtype = np.dtype(dtype)
        shapes = [(n_out, n_in + 1) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        n_params = sum(r * c for r, c in shapes)
        if params is None:
            self.params = np.zeros(n_params, dtype=self.dtype)
        else:
            if params.shape != (n_params,):
                raise ValueError(f"sizes {self.sizes} need {n_params} parameters, got shape {params.shape}")
            self.params = np.ascontiguousarray(params, dtype=self.dtype)
        self.Wb = _views(self.params, shapes)              # (n_out, n_in + 1): weights, then bias
        self.W = [wb[:, :-1] for wb in self.Wb]            # (n_out, n_in)
        self.b = [wb[:, -1] for wb in self.Wb]             # (n_out,)
        if params is None:
            rng = np.random.default_rng(seed)
            gain = 2.0 if activation == "relu" else 1.0
            for w in self.W:
                w[...] = rng.normal(0.0, np.sqrt(gain / w.shape[1]), size=w.shape)
        self._workspace: _Workspace | None = None

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def layer_activation(self, layer: int):
        """Return the activation function of a layer (0-based over weight layers)."""
        return self.cost.output if layer == self.n_layers - 1 else self.activation

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Return every layer's activations [x, a_1, ..., a_L] for a batch x (batch, sizes[0])."""
        a = np.asarray(x, dtype=self.dtype)
        activations = [a]
        for k in range(self.n_layers):
            z = a @ self.W[k].T + self.b[k]                     # (batch, n_out)
            a = np.empty_like(z)
            self.layer_activation(k).fn(z.T, a.T)               # functions take (units, batch)
            activations.append(a)
        return activations

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Return the output activations (batch, sizes[-1])."""
        return self.forward(x)[-1]

    def costs(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the cost of each example; y is one-hot (batch, 10)."""
        return self.cost.fn(self.predict(x), np.asarray(y, dtype=self.dtype))

    def evaluate(self, x: np.ndarray, labels: np.ndarray, batch: int = 10_000) -> tuple[float, float]:
        """Return (mean cost, accuracy) over a labelled set, in chunks to bound memory."""
        total_cost, correct = 0.0, 0
        for i in range(0, len(x), batch):
            out = self.predict(x[i:i + batch])
            y = one_hot(labels[i:i + batch], self.sizes[-1], self.dtype)
            total_cost += float(self.cost.fn(out, y).sum())
            correct += int((out.argmax(axis=1) == labels[i:i + batch]).sum())
        return total_cost / len(x), correct / len(x)

    def gradient(self, x_aug: np.ndarray, y: np.ndarray, grad: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Backpropagation. Write into `grad` (shaped like params) the gradient of the summed cost
        over the batch, divided by the cost's gradient_scale (the optimiser multiplies it back), and
        multiplied by `scale` (the optimiser passes -step size, so grad arrives as the step itself).

        x_aug is the input batch with a final column of ones (batch, sizes[0] + 1); y is one-hot
        (batch, sizes[-1]). Fastest when the caller reuses one x_aug buffer from step to step and
        y.T is C-contiguous (the Trainer does both). Return the output activations
        (batch, sizes[-1]), valid until the next call.
        """
        if x_aug.dtype != self.dtype:  # np.dot writes into our buffers only from their own dtype
            x_aug = x_aug.astype(self.dtype)
        ws = self._workspace
        if ws is None or ws.grad is not grad or ws.batch != x_aug.shape[0]:
            ws = self._workspace = _Workspace(self, x_aug, grad)
        elif ws.x is not x_aug:
            ws.bind_input(x_aug)
        for call in ws.forward:                  # every layer's z and a, then every sigma'(z)
            call()
        self.cost.delta(ws.a_out, y.T, ws.delta_out, ws.s_out)       # delta_L = dC/dz_L
        if scale != 1.0:                         # scaling delta_L scales every gradient
            ws.scale[()] = scale                 # (backpropagation is linear)
            multiply(ws.delta_out, ws.scale, ws.delta_out)
        for call in ws.backward:                 # every layer's delta and dC/dW, from the top
            call()
        return ws.a_out.T

    def copy(self) -> Network:
        """Return an independent network with the same weights (an immutable snapshot for readers)."""
        return Network(self.sizes, self.activation.name, self.cost.name, dtype=self.dtype,
                       params=self.params.copy())

    def astype(self, dtype: npt.DTypeLike) -> Network:
        """Return a copy computing in another precision (float64 for gradient checks)."""
        return Network(self.sizes, self.activation.name, self.cost.name, dtype=dtype,
                       params=self.params.astype(dtype))


class _Workspace:
    """The training step compiled for one batch size: preallocated buffers, and the step's NumPy
    calls bound to them once (functools.partial), so that a step allocates nothing and looks
    nothing up. Inside, each example is a column, as in Nielsen's book (z = W a + b): every product
    is then a plain np.dot on contiguous (or transposed contiguous) operands, the fastest call NumPy
    has for these small shapes."""

    def __init__(self, net: Network, x_aug: np.ndarray, grad: np.ndarray):
        batch = x_aug.shape[0]
        dt, sizes, L = net.dtype, net.sizes, net.n_layers
        self.batch, self.grad = batch, grad
        self.scale = np.array(1.0, dt)
        # Every layer's activations, each followed by a row of ones (the bias input) except the
        # output's, stacked in one buffer: sigma'(z) of all the layers is then one pass over it.
        rows = [n + 1 for n in sizes[1:-1]] + [sizes[-1]]
        A, S = np.ones((sum(rows), batch), dt), np.zeros((sum(rows), batch), dt)
        tops = np.cumsum([0] + rows)
        a_aug = [A[top:top + r] for top, r in zip(tops, rows, strict=False)]     # a with its 1s
        a = [A[top:top + n] for top, n in zip(tops, sizes[1:], strict=False)]    # (n_l, batch)
        s = [S[top:top + n] for top, n in zip(tops, sizes[1:], strict=False)]    # sigma'(z_l)
        z = [np.empty((n, batch), dt) for n in sizes[1:]]
        # Backpropagating through Wb^T (contiguous, unlike W^T, which np.dot would copy first)
        # gives one row too many, the bias's: each delta lives in the first rows of its buffer.
        delta = [np.empty((r + 1 if k < L - 1 else r, batch), dt)[:r]
                 for k, r in enumerate(sizes[1:])]
        G = _views(grad, [wb.shape for wb in net.Wb])                            # dC/dWb, in grad
        self.a_out, self.s_out, self.delta_out = a[-1], s[-1], delta[-1]

        self.forward: list = [None]                                 # [0]: the input's, bound below
        for k in range(L):
            if k:
                self.forward.append(partial(dot, net.Wb[k], a_aug[k - 1], z[k]))   # z = W a + b
            self.forward += net.layer_activation(k).calls(z[k], a[k])              # a' = sigma(z)
        # sigma'(z) of the hidden layers in one pass, and the output layer in the same pass when it
        # uses the same function (sigmoid + quadratic cost); softmax needs no sigma' (dC/dz = a - y).
        hidden, output = net.activation.prime_calls, net.cost.output.prime_calls
        end = sum(rows[:-1])
        if hidden is output:
            self.forward += hidden(A, S)
        else:
            if end:
                self.forward += hidden(A[:end], S[:end])
            if output is not None:
                self.forward += output(A[end:], S[end:])

        self.backward: list = []
        for k in range(L - 1, 0, -1):                               # from the top
            self.backward += [
                partial(dot, delta[k], a_aug[k - 1].T, G[k]),           # dC/dW and dC/db together
                partial(dot, net.Wb[k].T, delta[k], delta[k - 1].base),  # W^T delta_l (+ a bias row)
                partial(multiply, delta[k - 1], s[k - 1], delta[k - 1]),  # ... * sigma'(z_{l-1})
            ]
        self.backward.append(None)                                  # [-1]: the input's, bound below
        self._first, self._z_0, self._delta_0, self._G_0 = net.Wb[0], z[0], delta[0], G[0]
        self.bind_input(x_aug)

    def bind_input(self, x_aug: np.ndarray) -> None:
        """Point the two calls that read the input batch at x_aug."""
        self.x = x_aug
        self.forward[0] = partial(dot, self._first, x_aug.T, self._z_0)
        self.backward[-1] = partial(dot, self._delta_0, x_aug, self._G_0)


def _views(flat: np.ndarray, shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    """Return consecutive reshaped views of a flat vector (they share its memory)."""
    views, offset = [], 0
    for rows, cols in shapes:
        views.append(flat[offset:offset + rows * cols].reshape(rows, cols))
        offset += rows * cols
    return views


def one_hot(labels: np.ndarray, n: int = 10, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """Return the desired outputs: row i is 1 at labels[i] and 0 elsewhere."""
    y = np.zeros((len(labels), n), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1
    return y


def with_bias_column(x: np.ndarray) -> np.ndarray:
    """Return x with a trailing column of ones (the constant input that carries each bias)."""
    out = np.ones((x.shape[0], x.shape[1] + 1), dtype=x.dtype)
    out[:, :-1] = x
    return out
