"""The readable network checked against numbers: finite differences, the book's per-example
backprop, a tiny batch it must memorise, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from app.nn.network import Network, one_hot
from app.nn.optim import SGD
from app.training.mnist import load_mnist
from app.training.threads import pin_blas_threads
from bench.reference import ReferenceNetwork

pin_blas_threads()

PAIRS = [(a, c) for a in ("sigmoid", "relu") for c in ("quadratic", "cross_entropy")]
SIZES = [6, 5, 4, 3]


def small_batch(seed: int = 1, n: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Return (x, one-hot y) in float64 for the small network."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, SIZES[0]))
    return x, one_hot(rng.integers(0, SIZES[-1], n), SIZES[-1], np.float64)


def summed_cost(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    return float(net.costs(x, y).sum())


def numerical_gradient(net: Network, x: np.ndarray, y: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Return d(summed cost)/d(params) by central differences, one parameter at a time."""
    grad = np.zeros_like(net.params)
    for i in range(net.params.size):
        saved = net.params[i]
        net.params[i] = saved + eps
        up = summed_cost(net, x, y)
        net.params[i] = saved - eps
        down = summed_cost(net, x, y)
        net.params[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def backprop_vector(net: Network, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return Network.backprop's (nabla_W, nabla_b) laid out like net.params."""
    nabla_W, nabla_b = net.backprop(x, y)
    grad = Network(net.sizes, net.activation.name, net.cost.name, dtype=net.dtype)
    for l in range(net.n_layers):  # noqa: E741
        assert nabla_W[l].shape == net.W[l].shape and nabla_b[l].shape == net.b[l].shape
        grad.W[l][...], grad.b[l][...] = nabla_W[l], nabla_b[l]
    return grad.params


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_backprop_matches_finite_differences(activation, cost):
    net = Network(SIZES, activation, cost, seed=3, dtype=np.float64)
    net.params += np.random.default_rng(4).normal(0, 0.1, net.params.size)  # non-zero biases too
    x, y = small_batch()
    if activation == "relu":  # a kink within eps of a pre-activation would spoil the differences
        layers = net.forward(x)
        for k in range(net.n_layers - 1):
            assert np.abs(layers[k] @ net.W[k].T + net.b[k]).min() > 1e-4
    numeric = numerical_gradient(net, x, y)
    analytic = backprop_vector(net, x, y)
    assert np.abs(numeric).max() > 1e-3, "the check must not compare two near-zero vectors"
    assert relative_error(analytic, numeric) < 1e-6
    # Every weight block and bias separately, so a wrong bias gradient cannot hide behind large weight
    # gradients.
    nabla_W, nabla_b = net.backprop(x, y)
    for k in range(net.n_layers):
        start = sum(wb.size for wb in net.Wb[:k])
        block = numeric[start:start + net.Wb[k].size].reshape(net.Wb[k].shape)
        assert relative_error(nabla_W[k], block[:, :-1]) < 1e-6, f"weights of layer {k}"
        assert relative_error(nabla_b[k], block[:, -1]) < 1e-6, f"biases of layer {k}"


def test_backprop_is_the_books_summed_over_the_batch():
    """Sigmoid and the video's quadratic cost: the mini-batch backprop is the sum of Nielsen's
    per-example backprop (bench/reference.py, (784, 1) columns) over the batch's examples."""
    sizes = [20, 8, 7, 10]
    book, net = ReferenceNetwork(sizes, seed=3), Network(sizes, dtype=np.float64)
    for k in range(3):
        net.W[k][...] = book.weights[k]
        book.biases[k][...] = np.random.default_rng(k).normal(0, 0.5, book.biases[k].shape)
        net.b[k][...] = book.biases[k].ravel()
    rng = np.random.default_rng(9)
    x, y = rng.random((10, 20)), one_hot(rng.integers(0, 10, 10), 10, np.float64)
    nabla_W, nabla_b = net.backprop(x, y)
    per_example = [book.backprop(x[i].reshape(-1, 1), y[i].reshape(-1, 1)) for i in range(10)]
    for k in range(3):
        np.testing.assert_allclose(nabla_W[k], sum(nw[k] for _, nw in per_example), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(nabla_b[k], sum(nb[k] for nb, _ in per_example).ravel(), rtol=1e-12,
                                   atol=1e-15)


def test_a_step_is_the_books_step():
    """update_mini_batch moves the weights as Nielsen's update_mini_batch does, step after step."""
    sizes = [20, 8, 7, 10]
    book, net = ReferenceNetwork(sizes, seed=4), Network(sizes, dtype=np.float64)
    for k in range(3):
        net.W[k][...] = book.weights[k]
    rng = np.random.default_rng(10)
    for _ in range(5):
        x, y = rng.random((10, 20)), one_hot(rng.integers(0, 10, 10), 10, np.float64)
        book.update_mini_batch([(x[i].reshape(-1, 1), y[i].reshape(-1, 1)) for i in range(10)], 3.0)
        net.update_mini_batch(x, y, 3.0)
    for k in range(3):
        np.testing.assert_allclose(net.W[k], book.weights[k], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(net.b[k], book.biases[k].ravel(), rtol=1e-12, atol=1e-14)
    assert np.abs(net.b[0]).max() > 1e-3, "the biases moved"


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_gradient_is_the_same_for_any_batch_split(activation, cost):
    """Summed over the batch: the gradient of 7 examples is the sum over 3 + 4."""
    net = Network(SIZES, activation, cost, seed=5, dtype=np.float64)
    x, y = small_batch(seed=6)
    whole = backprop_vector(net, x, y)
    parts = backprop_vector(net, x[:3], y[:3]) + backprop_vector(net, x[3:], y[3:])
    np.testing.assert_allclose(whole, parts, rtol=1e-12, atol=1e-14)


def test_float32_gradient_agrees_with_float64():
    net64 = Network([784, 16, 16, 10], "sigmoid", "quadratic", seed=0, dtype=np.float64)
    net32 = net64.astype(np.float32)
    data = load_mnist()
    x, labels = data.train.images[:10], data.train.labels[:10]
    g64 = backprop_vector(net64, x.astype(np.float64), one_hot(labels, 10, np.float64))
    g32 = backprop_vector(net32, x, one_hot(labels))
    assert g32.dtype == np.float32
    assert relative_error(g32.astype(np.float64), g64) < 1e-5


def test_forward_returns_every_layer():
    net = Network([784, 16, 16, 10], "sigmoid", "cross_entropy", seed=0)
    x = load_mnist().test.images[:5]
    layers = net.forward(x)
    assert [a.shape for a in layers] == [(5, 784), (5, 16), (5, 16), (5, 10)]
    assert all(a.dtype == np.float32 for a in layers)
    np.testing.assert_allclose(layers[-1].sum(axis=1), 1.0, rtol=1e-5)  # softmax output
    hidden = 1 / (1 + np.exp(-(x.astype(np.float64) @ net.W[0].T.astype(np.float64) + net.b[0])))
    np.testing.assert_allclose(layers[1], hidden, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(net.feedforward(x), layers[-1])


def test_a_row_of_the_first_weights_is_one_neurons_picture():
    """W[0] is (16, 784): setting row 3 alone moves neuron 3 alone, by that row's dot product with x."""
    net = Network([784, 16, 10], dtype=np.float64)
    x = load_mnist().test.images[:1].astype(np.float64)
    before = net.forward(x)[1]
    net.W[0][3] = 0.7 * x[0] / (x[0] @ x[0])        # a picture of this very digit: z_3 = 0.7
    after = net.forward(x)[1]
    changed = np.flatnonzero(after[0] != before[0])
    assert list(changed) == [3]
    assert after[0, 3] == pytest.approx(1 / (1 + np.exp(-0.7)))


def test_quadratic_cost_is_the_videos():
    """The video's cost: squared differences summed over the 10 outputs (no 1/2), averaged over examples."""
    net = Network([4, 3], "sigmoid", "quadratic", dtype=np.float64)
    x = np.zeros((2, 4))  # all weights act on zeros, biases are 0: every output is sigmoid(0) = 0.5
    y = one_hot(np.array([0, 2]), 3, np.float64)
    np.testing.assert_allclose(net.costs(x, y), [0.75, 0.75])
    assert net.evaluate(x, np.array([0, 2]))[0] == pytest.approx(0.75)


def overfit(activation: str, cost: str, lr: float, momentum: float,
            steps: int) -> tuple[Network, np.ndarray, np.ndarray]:
    """Return a 784-16-16-10 network trained full-batch on the first 20 training digits."""
    data = load_mnist()
    x, labels = data.train.images[:20], data.train.labels[:20]
    net = Network([784, 16, 16, 10], activation, cost, seed=0)
    sgd = SGD(net, lr, momentum=momentum)
    x_aug, y = net.input_batch(x), one_hot(labels)
    for _ in range(steps):
        sgd.step(x_aug, y)
    return net, x, labels


@pytest.mark.parametrize("activation,cost,lr,momentum", [("sigmoid", "quadratic", 3.0, 0.0),
                                                          ("relu", "cross_entropy", 0.1, 0.9)])
def test_a_tiny_batch_of_real_digits_is_memorised(activation, cost, lr, momentum):
    net, x, labels = overfit(activation, cost, lr, momentum, steps=500)
    cost_after, accuracy = net.evaluate(x, labels)
    assert accuracy == 1.0
    assert cost_after < 0.05
    # Memorised, not learnt: 20 examples are far too few to generalise.
    assert net.evaluate(load_mnist().test.images[:200], load_mnist().test.labels[:200])[1] < 0.9


def test_same_seed_same_initial_weights_different_seed_different():
    a = Network([784, 16, 16, 10], seed=7)
    b = Network([784, 16, 16, 10], seed=7)
    c = Network([784, 16, 16, 10], seed=8)
    assert a.params.tobytes() == b.params.tobytes()
    assert not np.array_equal(a.params, c.params)
    assert all(np.all(b == 0) for b in a.b)  # biases start at 0
    # Xavier initialisation for sigmoid: weights ~ N(0, 1/fan_in).
    assert np.std(a.W[0]) == pytest.approx(1 / np.sqrt(784), rel=0.05)
    assert np.std(Network([784, 64, 10], "relu").W[0]) == pytest.approx(np.sqrt(2 / 784), rel=0.05)


def test_weights_and_biases_are_views_of_params():
    net = Network([784, 16, 16, 10])
    assert [W.shape for W in net.W] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in net.b] == [(16,), (16,), (10,)]
    assert net.params.size == sum(W.size + b.size for W, b in zip(net.W, net.b, strict=True))
    assert all(np.shares_memory(W, net.params) and np.shares_memory(b, net.params)
               for W, b in zip(net.W, net.b, strict=True))


def test_copy_is_independent():
    net = Network([784, 16, 10], seed=0)
    snap = net.copy()
    net.params += 1
    assert not np.shares_memory(snap.params, net.params)
    np.testing.assert_array_equal(snap.params + 1, net.params)


@pytest.mark.parametrize("sizes,activation,cost", [([784], "sigmoid", "quadratic"), ([784, 0, 10], "sigmoid",
                         "quadratic"), ([784, 10], "tanh", "quadratic"), ([784, 10], "relu", "hinge")])
def test_bad_network_arguments_are_refused(sizes, activation, cost):
    with pytest.raises(ValueError):
        Network(sizes, activation, cost)
