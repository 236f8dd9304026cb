"""A network of fully connected layers, trained by backpropagation over mini-batches: the network of
3Blue1Brown's video and of chapters 1-2 of Nielsen's book, in NumPy.

Rows are examples: a mini-batch x is (m, sizes[0]). Layer l turns activations a (m, n_in) into
z = a W[l]^T + b[l] (m, n_out), then a' = sigma(z). W[l] is (n_out, n_in): row j holds neuron j's
incoming weights, so row j of W[0] is hidden neuron j's 28x28 picture. b[l] is (n_out,).

This module is the one to read. The Trainer takes its steps with fast.py, which computes the same
maths in another arrangement and is tested against backprop() here.
"""

# ruff: noqa: E741  (l is the book's layer index)
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from . import fast
from .functions import ACTIVATIONS, COSTS


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
        # Every weight and bias lives in one flat vector, `params` (one update moves them all; a model
        # file is one array). Layer l's block Wb[l] holds its weights with its biases as a last column.
        shapes = [(n_out, n_in + 1) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        n_params = sum(rows * cols for rows, cols in shapes)
        if params is None:
            self.params = np.zeros(n_params, dtype=self.dtype)
        elif params.shape != (n_params,):
            raise ValueError(f"sizes {self.sizes} need {n_params} parameters, got shape {params.shape}")
        else:
            self.params = np.ascontiguousarray(params, dtype=self.dtype)
        blocks = np.split(self.params, np.cumsum([rows * cols for rows, cols in shapes])[:-1])
        self.Wb = [block.reshape(shape) for block, shape in zip(blocks, shapes, strict=True)]
        self.W = [wb[:, :-1] for wb in self.Wb]        # (n_out, n_in)
        self.b = [wb[:, -1] for wb in self.Wb]         # (n_out,)
        if params is None:
            rng = np.random.default_rng(seed)
            gain = 2.0 if activation == "relu" else 1.0
            for W in self.W:
                W[...] = rng.normal(0.0, np.sqrt(gain / W.shape[1]), size=W.shape)

    @property
    def n_layers(self) -> int:
        """The number of weight layers (one fewer than len(sizes))."""
        return len(self.sizes) - 1

    def layer_activation(self, l: int):
        """Return the activation of weight layer l: the cost's own output function for the last."""
        return self.cost.output if l == self.n_layers - 1 else self.activation

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Return every layer's activations [x, a_1, ..., a_L] for a batch x (m, sizes[0])."""
        a = np.asarray(x, dtype=self.dtype)
        activations = [a]
        for l in range(self.n_layers):
            z = a @ self.W[l].T + self.b[l]              # (m, n_out)
            a = self.layer_activation(l).fn(z)
            activations.append(a)
        return activations

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        """Return the output activations (m, sizes[-1]) for a batch x (m, sizes[0])."""
        return self.forward(x)[-1]

    predict = feedforward

    def costs(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the cost of each example (m,); y is one-hot (m, sizes[-1])."""
        return self.cost.fn(self.feedforward(x), np.asarray(y, dtype=self.dtype))

    def evaluate(self, x: np.ndarray, labels: np.ndarray, batch: int = 10_000) -> tuple[float, float]:
        """Return (mean cost, accuracy) over a labelled set, in chunks to bound memory."""
        total_cost, correct = 0.0, 0
        for i in range(0, len(x), batch):
            out = self.feedforward(x[i:i + batch])
            y = one_hot(labels[i:i + batch], self.sizes[-1], self.dtype)
            total_cost += float(self.cost.fn(out, y).sum())
            correct += int((out.argmax(axis=1) == labels[i:i + batch]).sum())
        return total_cost / len(x), correct / len(x)

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return (nabla_W, nabla_b): the gradient of the cost summed over the mini-batch x (m, sizes[0])
        with one-hot targets y (m, sizes[-1]), layer by layer, shaped like W and b."""
        # Forward, keeping every z and every activation: the backward pass needs them.
        activation = np.asarray(x, dtype=self.dtype)
        activations, zs = [activation], []
        for l in range(self.n_layers):
            z = activation @ self.W[l].T + self.b[l]             # (m, n_out)
            activation = self.layer_activation(l).fn(z)
            zs.append(z)
            activations.append(activation)
        # BP1, the output error: delta_L = dC/da * sigma'(z_L), one row per example (m, sizes[-1]).
        delta = self.cost.delta(zs[-1], activations[-1], np.asarray(y, dtype=self.dtype))
        nabla_W, nabla_b = [np.zeros_like(W) for W in self.W], [np.zeros_like(b) for b in self.b]
        for l in range(self.n_layers - 1, -1, -1):               # from the top
            nabla_b[l] = delta.sum(axis=0)                        # BP3: dC/db_j = delta_j
            nabla_W[l] = delta.T @ activations[l]                 # BP4: dC/dw_jk = a_k delta_j
            if l > 0:   # BP2, the error of the layer below: delta_{l-1} = (W_l^T delta_l) * sigma'(z_{l-1})
                delta = (delta @ self.W[l]) * self.activation.prime(zs[l - 1])
        return nabla_W, nabla_b

    def update_mini_batch(self, x: np.ndarray, y: np.ndarray, eta: float) -> None:
        """Take one step of gradient descent on the mini-batch: w <- w - (eta / m) dC/dw, and the same
        for every b. (The Trainer takes this step with optim.SGD, through fast.py.)"""
        nabla_W, nabla_b = self.backprop(x, y)
        for W, b, nw, nb in zip(self.W, self.b, nabla_W, nabla_b, strict=True):
            W -= (eta / len(x)) * nw
            b -= (eta / len(x)) * nb

    def copy(self) -> Network:
        """Return an independent network with the same weights (an immutable snapshot for readers)."""
        return self.astype(self.dtype)

    def astype(self, dtype: npt.DTypeLike) -> Network:
        """Return a copy computing in another precision (float64 for gradient checks)."""
        return Network(self.sizes, self.activation.name, self.cost.name, dtype=dtype,
                       params=self.params.astype(dtype))

    # The fast step's layout of a batch (fast.py), for the Trainer and for callers of SGD.step.
    @property
    def input_scale(self) -> float:
        """Return the factor by which the fast step reads its inputs (and its bias input)."""
        return fast.layer_scales(self)[0]

    def input_batch(self, x: np.ndarray) -> np.ndarray:
        """Return x (m, sizes[0]) as the fast step reads it (m, sizes[0] + 1): see fast.input_batch."""
        return fast.input_batch(self, x)

    def check_input(self, x_aug: np.ndarray) -> np.ndarray:
        """Return x_aug in this network's dtype if input_batch() made it; else raise ValueError."""
        return fast.check_input(self, x_aug)


def one_hot(labels: np.ndarray, n: int = 10, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """Return the desired outputs (len(labels), n): row i is 1 at labels[i] and 0 elsewhere."""
    y = np.zeros((len(labels), n), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1
    return y
