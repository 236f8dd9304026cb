"""The fast training path computes the textbook's maths: the shortcuts taken for speed (the step folded
into the output error, one sigma' pass over every layer, tanh for the sigmoid, reused buffers) are
checked against the yardsticks in bench/ and against plain formulas."""

from __future__ import annotations

import numpy as np
import pytest

from app.nn.functions import ReLU, Sigmoid, Softmax
from app.nn.network import Network, one_hot
from app.nn.optim import SGD
from app.training.threads import pin_blas_threads
from bench.plain import PlainNetwork
from bench.reference import ReferenceNetwork

pin_blas_threads()

SIZES = [20, 8, 7, 10]


def batch(rng: np.random.Generator, n: int = 10, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    return rng.random((n, SIZES[0])).astype(dtype), one_hot(rng.integers(0, 10, n), 10, dtype)


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


@pytest.mark.parametrize("activation,cost", [("sigmoid", "quadratic"), ("relu", "quadratic"),
                                             ("relu", "cross_entropy"), ("sigmoid", "cross_entropy")])
def test_scale_multiplies_the_gradient_and_outputs_match_forward(activation, cost):
    rng = np.random.default_rng(2)
    net = Network(SIZES, activation, cost, seed=5, dtype=np.float64)
    x, y = batch(rng)
    plain_grad, scaled = np.zeros_like(net.params), np.zeros_like(net.params)
    out = net.gradient(net.input_batch(x), y, plain_grad).copy()
    net.gradient(net.input_batch(x), y, scaled, scale=-0.37)
    np.testing.assert_allclose(scaled, -0.37 * plain_grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out, net.predict(x), rtol=1e-12)


def test_buffers_follow_a_change_of_batch_size():
    """The last mini-batch of an epoch can be smaller: results must not depend on the previous size."""
    rng = np.random.default_rng(3)
    net = Network(SIZES, dtype=np.float64)
    grad, fresh = np.zeros_like(net.params), np.zeros_like(net.params)
    for n in (10, 3, 10, 1):
        x, y = batch(rng, n)
        net.gradient(net.input_batch(x), y, grad)
        net.copy().gradient(net.input_batch(x), y, fresh)
        np.testing.assert_array_equal(grad, fresh)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_never_overflows_and_saturates_cleanly(dtype):
    z = np.array([[-1e30, -1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4, 1e30]], dtype)
    out = np.empty_like(z)
    with np.errstate(all="raise"):
        Sigmoid.fn(z.copy(), out)
    expected = 1.0 / (1.0 + np.exp(-np.clip(z.astype(np.float64), -700, 700)))
    np.testing.assert_allclose(out, expected, atol=1e-7 if dtype == np.float32 else 1e-15)
    assert out[0, 0] == 0.0 and out[0, -1] == 1.0


def test_primes_are_the_derivatives():
    a = np.array([[0.0, 0.25, 0.5, 1.0]])
    np.testing.assert_allclose(Sigmoid.prime(a, np.empty_like(a)), a * (1 - a))
    np.testing.assert_array_equal(ReLU.prime(np.array([[0.0, 2.0]]), np.empty((1, 2))), [[0.0, 1.0]])


@pytest.mark.parametrize("activation,cost", [("sigmoid", "quadratic"), ("relu", "cross_entropy")])
def test_the_bound_step_follows_its_input_buffer(activation, cost):
    """The step's calls are bound to the caller's input buffer once: refilling that buffer in place
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
    z = np.array([[1.0, -3.0, 800.0], [2.0, 0.0, 0.0], [3.0, 1.0, -800.0]])  # units x batch
    out = np.empty_like(z)
    with np.errstate(over="raise", invalid="raise"):   # exp(-1600) may underflow to 0, never overflow
        Softmax.fn(z.copy(), out)
    shifted = np.exp(z - z.max(axis=0))
    np.testing.assert_allclose(out, shifted / shifted.sum(axis=0), rtol=1e-15)


@pytest.mark.parametrize("sizes", [[784, 10], [784, 16, 10], [784, 16, 16, 10], [784, 16, 16, 16, 10]])
def test_the_scaled_step_is_the_plain_step_bit_for_bit(mnist, sizes):
    """The training step reads its inputs halved and keeps the hidden activations times 2 or 1/2,
    to save NumPy calls in the sigmoids (network._scales). All the factors are powers of 2: the weights
    must come out identical, bit for bit, to a step that scales nothing."""
    scaled, plain = Network(sizes, seed=2), Network(sizes, seed=2)
    assert scaled.input_scale != 1.0
    plain.scales, plain.input_scale = [1.0] * plain.n_layers, 1.0      # the textbook's layout
    sgds = SGD(scaled, 3.0, momentum=0.5), SGD(plain, 3.0, momentum=0.5)
    x, y = mnist.train.images[:400], one_hot(mnist.train.labels[:400])
    for i in range(0, 400, 10):
        for sgd in sgds:
            sgd.step(sgd.net.input_batch(x[i:i + 10]), y[i:i + 10], 3.0 * (1 - i / 800))
    assert scaled.params.tobytes() == plain.params.tobytes()


def test_the_scales_follow_the_architecture():
    assert Network([784, 16, 16, 10]).scales == [0.5, 2.0, 0.5]     # 9 sigmoid calls instead of 12
    assert Network([784, 16, 10]).scales == [0.5, 2.0]
    for activation, cost in [("relu", "quadratic"), ("relu", "cross_entropy"), ("sigmoid", "cross_entropy")]:
        assert set(Network([784, 16, 16, 10], activation, cost).scales) == {1.0}


def test_inputs_not_made_by_input_batch_are_refused():
    net = Network([784, 16, 16, 10])
    x = np.random.default_rng(0).random((10, 784)).astype(np.float32)
    with pytest.raises(ValueError, match="input_batch"):
        SGD(net, 3.0).step(np.hstack([x, np.ones((10, 1), np.float32)]), one_hot(np.arange(10)))
    with pytest.raises(ValueError, match="input_batch"):
        net.gradient(x, one_hot(np.arange(10)), np.zeros_like(net.params))     # no bias column
    np.testing.assert_array_equal(net.input_batch(x), np.hstack([x / 2, np.full((10, 1), 0.5)]))


@pytest.mark.parametrize("z_scale,out_scale", [(0.5, 2.0), (2.0, 0.5), (0.5, 1.0), (2.0, 1.0), (1.0, 1.0)])
def test_the_sigmoid_takes_and_gives_scaled_values(z_scale, out_scale):
    z = np.linspace(-30, 30, 61).reshape(1, -1)
    out = np.empty_like(z)
    for call in Sigmoid.calls(z * z_scale, out, z_scale, out_scale):
        call()
    np.testing.assert_allclose(out, out_scale / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)
    a = out_scale / (1 + np.exp(-z))
    prime = np.empty_like(a)
    for call in Sigmoid.prime_calls(a, prime, np.array(out_scale)):
        call()
    sigma = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(prime, out_scale ** 2 * sigma * (1 - sigma), rtol=1e-12, atol=1e-15)
