"""One example through the network: its cost digit by digit, and which weights that cost hinges on.

The cost is the video's: the squared difference between each output activation and the desired
one (1 for the right digit, 0 for the others), summed over the ten digits (QuadraticCost). The
gradient comes from the network's own backpropagation (Network.gradient); nothing is re-derived here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.nn.functions import QuadraticCost
from app.nn.network import Network, one_hot


@dataclass(frozen=True)
class ExampleCost:
    activations: np.ndarray   # (10,) what the network outputs
    desired: np.ndarray       # (10,) one-hot: 1 at the label
    squared: np.ndarray       # (10,) (activation - desired)^2 for each digit
    cost: float               # their sum: this example's cost
    digit: int                # the network's answer (largest activation)


def example_cost(net: Network, image: np.ndarray, label: int) -> ExampleCost:
    """Return the quadratic cost of one 784-pixel image with the given label, digit by digit."""
    a = net.predict(np.asarray(image, net.dtype).reshape(1, -1)).astype(np.float64)  # (1, 10)
    y = one_hot(np.array([label]), net.sizes[-1], np.float64)                          # (1, 10)
    squared = (a - y)[0] ** 2
    cost = float(QuadraticCost.fn(a, y)[0])
    return ExampleCost(a[0], y[0], squared, cost, int(a[0].argmax()))


def average_cost(net: Network, images: np.ndarray, labels: np.ndarray,
                 batch: int = 10_000) -> tuple[float, float]:
    """Return (mean quadratic cost, accuracy) over a labelled set, whatever cost the net trained on."""
    total, correct = 0.0, 0
    for i in range(0, len(images), batch):
        a = net.predict(images[i:i + batch])
        y = one_hot(labels[i:i + batch], net.sizes[-1], a.dtype)
        total += float(QuadraticCost.fn(a, y).sum())
        correct += int((a.argmax(axis=1) == labels[i:i + batch]).sum())
    return total / len(images), correct / len(images)


def parameter_gradient(net: Network, image: np.ndarray, label: int) -> Network:
    """Return dC/d(every weight and bias) for one example, shaped as a Network (its W[l] and b[l]
    hold the gradient). C is the network's own cost for this one example, not averaged or halved.
    Computed on a float64 copy, so a shared snapshot's buffers are never touched."""
    work = net.astype(np.float64)
    x = np.asarray(image, np.float64).reshape(1, -1)                        # (1, 784)
    y = one_hot(np.array([label]), net.sizes[-1], np.float64)
    nabla_W, nabla_b = work.backprop(x, y)
    grad = Network(net.sizes, net.activation.name, net.cost.name, dtype=np.float64)
    for layer in range(grad.n_layers):
        grad.W[layer][...], grad.b[layer][...] = nabla_W[layer], nabla_b[layer]
    return grad


@dataclass(frozen=True)
class Nudge:
    kind: str        # "weight" | "bias"
    layer: int       # 0 = input -> first hidden layer
    neuron: int      # the receiving neuron in layer + 1
    source: int      # the sending neuron (input pixel for layer 0); -1 for a bias
    gradient: float
    value: float     # the weight or bias itself


def largest_nudges(net: Network, grad: Network, k: int = 12) -> list[Nudge]:
    """Return the k weights and biases whose |gradient| is largest, biggest first: the ones a small
    change to would move this example's cost the most."""
    order = np.argsort(-np.abs(grad.params), kind="stable")[:k]
    offsets = np.cumsum([0] + [wb.size for wb in grad.Wb])
    nudges = []
    for flat in order:
        layer = int(np.searchsorted(offsets, flat, side="right") - 1)
        rows, cols = grad.Wb[layer].shape
        neuron, col = divmod(int(flat - offsets[layer]), cols)
        is_bias = col == cols - 1
        nudges.append(Nudge("bias" if is_bias else "weight", layer, neuron, -1 if is_bias else col,
                            float(grad.params[flat]), float(net.params[flat])))
    return nudges


def flat_parameters(net: Network) -> np.ndarray:
    """Return every weight and bias in one vector (float64), layer by layer and neuron by neuron:
    a neuron's incoming weights, then its bias (the order the gradient column is drawn in)."""
    return np.concatenate([np.hstack([np.asarray(W, np.float64), np.asarray(b, np.float64)[:, None]]).ravel()
                           for W, b in zip(net.W, net.b, strict=True)])


@dataclass(frozen=True)
class Column:
    gradient: np.ndarray   # (k,) dC/dp for the parameters shown
    value: np.ndarray      # (k,) the parameters themselves
    index: np.ndarray      # (k,) their place in flat_parameters order
    total: int             # how many parameters the network has


def gradient_column(net: Network, grad: Network, limit: int) -> Column:
    """Return the whole gradient in network order when the network has at most `limit` parameters
    (the video's has 13,002), else the `limit` entries of largest |gradient|, largest first."""
    g, v = flat_parameters(grad), flat_parameters(net)
    if g.size <= limit:
        index = np.arange(g.size)
    else:
        index = np.argsort(-np.abs(g), kind="stable")[:limit]
    return Column(g[index], v[index], index, int(g.size))


@dataclass(frozen=True)
class Step:
    learning_rate: float
    before: ExampleCost
    after: ExampleCost


def one_step(net: Network, grad: Network, image: np.ndarray, label: int, learning_rate: float) -> Step:
    """Return this example's cost before and after one gradient-descent step on it alone: every
    weight and bias moves by -learning_rate times its own gradient, in proportion to it."""
    moved = Network(net.sizes, net.activation.name, net.cost.name, dtype=np.float64)
    for k in range(len(net.W)):
        moved.W[k][...] = np.asarray(net.W[k], np.float64) - learning_rate * grad.W[k]
        moved.b[k][...] = np.asarray(net.b[k], np.float64) - learning_rate * grad.b[k]
    return Step(learning_rate, example_cost(net, image, label), example_cost(moved, image, label))
