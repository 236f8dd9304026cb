"""The fast training step (app/nn/fast.py) computes the readable network's maths: checked against
Network.backprop, against the yardsticks in bench/, against a step that scales nothing (bit for bit),
and against plain formulas."""

from __future__ import annotations

import numpy as np
import pytest

from app.nn import fast
from app.nn.functions import ReLU, Sigmoid, Softmax
from app.nn.network import Network, one_hot
from app.nn.optim import SGD
from app.training.threads import pin_blas_threads
from bench.plain import PlainNetwork
from bench.reference import ReferenceNetwork

pin_blas_threads()

SIZES = [20, 8, 7, 10]
PAIRS = [("sigmoid", "quadratic"), ("relu", "quadratic"), ("relu", "cross_entropy"),
         ("sigmoid", "cross_entropy")]


def batch(rng: np.random.Generator, n: int = 10, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    return rng.random((n, SIZES[0])).astype(dtype), one_hot(rng.integers(0, 10, n), 10, dtype)


def fast_gradient(net: Network, x: np.ndarray, y: np.ndarray,
                  scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Return (the fast step's gradient shaped like params, the outputs it returned)."""
    grad = np.zeros_like(net.params)
    out = fast.gradient_step(net, len(x), grad)(net.input_batch(x), np.ascontiguousarray(y.T), scale)
    return grad, out.copy()


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_the_fast_gradient_is_backprop(activation, cost):
    """The fast step's gradient, times the cost's constant, is Network.backprop's, block by block."""
    rng = np.random.default_rng(12)
    net = Network(SIZES, activation, cost, seed=5, dtype=np.float64)
    net.params += rng.normal(0, 0.1, net.params.size)
    x, y = batch(rng)
    grad, out = fast_gradient(net, x, y)
    blocks = fast.views(grad * net.cost.gradient_scale, [wb.shape for wb in net.Wb])
    nabla_W, nabla_b = net.backprop(x, y)
    for k in range(net.n_layers):
        np.testing.assert_allclose(blocks[k][:, :-1], nabla_W[k], rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(blocks[k][:, -1], nabla_b[k], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(out, net.feedforward(x), rtol=1e-12)


@pytest.mark.parametrize("activation,cost", PAIRS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_steps_are_the_readable_networks_steps(activation, cost, dtype):
    """Twenty fast SGD steps land where twenty textbook steps on the readable network land."""
    rng = np.random.default_rng(13)
    fast_net = Network(SIZES, activation, cost, seed=6, dtype=dtype)
    readable = fast_net.copy()
    sgd, eta = SGD(fast_net, 0.5), 0.5
    for _ in range(20):
        x, y = batch(rng, dtype=dtype)
        sgd.step(fast_net.input_batch(x), y)
        readable.update_mini_batch(x, y, eta)
    tol = 1e-11 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(fast_net.params, readable.params, rtol=tol, atol=tol)
    assert not np.array_equal(readable.params, Network(SIZES, activation, cost, seed=6, dtype=dtype).params)


def test_sgd_matches_the_textbook_per_example_loop():
    rng = np.random.default_rng(0)
    ref, net = ReferenceNetwork(SIZES, seed=3), Network(SIZES, dtype=np.float64)
    for k in range(3):
        net.W[k][...] = ref.weights[k]
    sgd = SGD(net, 3.0)
    for _ in range(20):
        x, y = batch(rng)
        ref.update_mini_batch([(x[i].reshape(-1, 1), y[i].reshape(-1, 1)) for i in range(len(x))], 3.0)
        sgd.step(net.input_batch(x), y)
    for k in range(3):
        np.testing.assert_allclose(net.W[k], ref.weights[k], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(net.b[k], ref.biases[k].ravel(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_matches_the_plain_vectorised_loop(dtype):
    rng = np.random.default_rng(1)
    plain, net = PlainNetwork(SIZES, seed=4, dtype=dtype), Network(SIZES, dtype=dtype)
    for k in range(3):
        net.W[k][...] = plain.weights[k]
    sgd = SGD(net, 0.5)
    for _ in range(20):
        x, y = batch(rng, dtype=dtype)
        plain.update_mini_batch(x, y, 0.5)
        sgd.step(net.input_batch(x), y, 0.5)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for k in range(3):
        np.testing.assert_allclose(net.W[k], plain.weights[k], rtol=tol, atol=tol)


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_scale_multiplies_the_gradient(activation, cost):
    """SGD asks for the update itself (the gradient times -rate/m) in the same pass."""
    rng = np.random.default_rng(2)
    net = Network(SIZES, activation, cost, seed=5, dtype=np.float64)
    x, y = batch(rng)
    plain, _ = fast_gradient(net, x, y)
    scaled, _ = fast_gradient(net, x, y, scale=-0.37)
    np.testing.assert_allclose(scaled, -0.37 * plain, rtol=1e-12, atol=1e-15)


def test_steps_follow_a_change_of_batch_size():
    """The last mini-batch of an epoch can be smaller: results must not depend on the previous size."""
    rng = np.random.default_rng(3)
    kept = SGD(Network(SIZES, dtype=np.float64), 0.5, momentum=0.5)
    for n in (10, 3, 10, 1):
        x, y = batch(rng, n)
        fresh = SGD(kept.net.copy(), 0.5, momentum=0.5)
        assert kept.velocity is not None and fresh.velocity is not None
        fresh.velocity[...] = kept.velocity
        kept.step(kept.net.input_batch(x), y)
        fresh.step(fresh.net.input_batch(x), y)
        np.testing.assert_array_equal(kept.net.params, fresh.net.params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_never_overflows_and_saturates_cleanly(dtype):
    z = np.array([[-1e30, -1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4, 1e30]], dtype)
    expected = 1.0 / (1.0 + np.exp(-np.clip(z.astype(np.float64), -700, 700)))
    out = np.empty_like(z)
    with np.errstate(all="raise"):
        readable = Sigmoid.fn(z)
        for call in fast.sigmoid_calls(z.copy(), out):
            call()
    for got in (readable, out):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, atol=1e-7 if dtype == np.float32 else 1e-15)
        assert got[0, 0] == 0.0 and got[0, -1] == 1.0
    np.testing.assert_array_equal(out, readable)


def test_primes_are_the_derivatives():
    z = np.linspace(-6, 6, 25).reshape(1, -1)
    h = 1e-6
    numeric = (Sigmoid.fn(z + h) - Sigmoid.fn(z - h)) / (2 * h)
    np.testing.assert_allclose(Sigmoid.prime(z), numeric, rtol=1e-6, atol=1e-10)
    np.testing.assert_array_equal(ReLU.prime(np.array([[-1.0, 0.0, 2.0]])), [[0.0, 0.0, 1.0]])
    a = Sigmoid.fn(z)
    out = np.empty_like(a)
    for call in fast.sigmoid_prime_calls(a, out):
        call()
    np.testing.assert_allclose(out, Sigmoid.prime(z), rtol=1e-15)
    relu_out = np.empty((1, 3))
    for call in fast.relu_prime_calls(ReLU.fn(np.array([[-1.0, 0.0, 2.0]])), relu_out):
        call()
    np.testing.assert_array_equal(relu_out, [[0.0, 0.0, 1.0]])


@pytest.mark.parametrize("activation,cost", [("sigmoid", "quadratic"), ("relu", "cross_entropy")])
def test_the_bound_step_follows_its_input_buffer(activation, cost):
    """The step's calls are bound to their buffers once: refilling the caller's input buffer in place
    (as the Trainer does), switching buffers, or passing y in either layout gives the same weights
    as fresh arrays at every step."""
    rng = np.random.default_rng(6)
    batches = [batch(rng) for _ in range(6)]
    fresh = SGD(Network(SIZES, activation, cost, seed=7, dtype=np.float64), 0.5, momentum=0.5, l2=1e-3)
    for x, y in batches:
        fresh.step(fresh.net.input_batch(x), y)
    reused = SGD(Network(SIZES, activation, cost, seed=7, dtype=np.float64), 0.5, momentum=0.5, l2=1e-3)
    buffers = [np.empty((10, SIZES[0] + 1)), np.empty((10, SIZES[0] + 1))]
    for k, (x, y) in enumerate(batches):
        xb = buffers[k // 3]                                  # three steps on one, then the other
        xb[...] = reused.net.input_batch(x)
        y_arg = np.ascontiguousarray(y.T).T if k % 2 else y   # y.T contiguous, or not
        reused.step(xb, y_arg)
    np.testing.assert_array_equal(reused.net.params, fresh.net.params)


def test_softmax_is_the_formula():
    z = np.array([[1.0, -3.0, 800.0], [2.0, 0.0, 0.0], [3.0, 1.0, -800.0]])  # examples x units
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    with np.errstate(over="raise", invalid="raise"):   # exp(-1600) may underflow to 0, never overflow
        readable = Softmax.fn(z)
        columns = np.empty_like(z.T)                    # the fast step's layout: units x examples
        for call in fast.softmax_calls(z.T.copy(), columns):
            call()
    np.testing.assert_allclose(readable, shifted / shifted.sum(axis=1, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(columns.T, readable, rtol=1e-15)


@pytest.mark.parametrize("sizes", [[784, 10], [784, 16, 10], [784, 16, 16, 10], [784, 16, 16, 16, 10]])
def test_the_scaled_step_is_the_plain_step_bit_for_bit(mnist, sizes, monkeypatch):
    """The fast step reads its inputs halved and keeps the hidden activations times 2 or 1/2, to save
    NumPy calls in the sigmoids (fast.layer_scales). All the factors are powers of 2: the weights must
    come out identical, bit for bit, to a step that scales nothing (the textbook's layout)."""
    scaled, plain = Network(sizes, seed=2), Network(sizes, seed=2)
    chosen = fast.layer_scales
    monkeypatch.setattr(fast, "layer_scales",
                        lambda net: [1.0] * net.n_layers if net is plain else chosen(net))
    assert scaled.input_scale == 0.5 and plain.input_scale == 1.0
    sgds = SGD(scaled, 3.0, momentum=0.5), SGD(plain, 3.0, momentum=0.5)
    x, y = mnist.train.images[:400], one_hot(mnist.train.labels[:400])
    for i in range(0, 400, 10):
        for sgd in sgds:
            sgd.step(sgd.net.input_batch(x[i:i + 10]), y[i:i + 10], 3.0 * (1 - i / 800))
    assert scaled.params.tobytes() == plain.params.tobytes()
    assert not np.array_equal(scaled.params, Network(sizes, seed=2).params)


def test_the_scales_follow_the_architecture():
    assert fast.layer_scales(Network([784, 16, 16, 10])) == [0.5, 2.0, 0.5]
    assert fast.layer_scales(Network([784, 16, 10])) == [0.5, 2.0]
    for activation, cost in [("relu", "quadratic"), ("relu", "cross_entropy"), ("sigmoid", "cross_entropy")]:
        assert set(fast.layer_scales(Network([784, 16, 16, 10], activation, cost))) == {1.0}


def test_inputs_not_made_by_input_batch_are_refused():
    net = Network([784, 16, 16, 10])
    x = np.random.default_rng(0).random((10, 784)).astype(np.float32)
    with pytest.raises(ValueError, match="input_batch"):
        SGD(net, 3.0).step(np.hstack([x, np.ones((10, 1), np.float32)]), one_hot(np.arange(10)))
    with pytest.raises(ValueError, match="input_batch"):
        net.check_input(x)                                                       # no bias column
    np.testing.assert_array_equal(net.input_batch(x), np.hstack([x / 2, np.full((10, 1), 0.5)]))


@pytest.mark.parametrize("z_scale,out_scale", [(0.5, 2.0), (2.0, 0.5), (0.5, 1.0), (2.0, 1.0), (1.0, 1.0)])
def test_the_sigmoid_takes_and_gives_scaled_values(z_scale, out_scale):
    z = np.linspace(-30, 30, 61).reshape(1, -1)
    out = np.empty_like(z)
    for call in fast.sigmoid_calls(z * z_scale, out, z_scale, out_scale):
        call()
    np.testing.assert_allclose(out, out_scale / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)
    a = out_scale / (1 + np.exp(-z))
    prime = np.empty_like(a)
    for call in fast.sigmoid_prime_calls(a, prime, np.array(out_scale)):
        call()
    sigma = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(prime, out_scale ** 2 * sigma * (1 - sigma), rtol=1e-12, atol=1e-15)
