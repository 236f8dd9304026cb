"""Mini-batch SGD against updates computed by hand from the objective's finite-difference gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.nn.network import Network, one_hot
from app.nn.optim import SGD, scheduled_rate

SIZES = [5, 4, 3]


def objective(net: Network, x: np.ndarray, y: np.ndarray, l2: float) -> float:
    """Return the mean cost over the batch plus (l2 / 2) * sum of squared weights (biases excluded)."""
    return float(net.costs(x, y).mean()) + 0.5 * l2 * sum(float((w**2).sum()) for w in net.W)


def objective_gradient(net: Network, x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Return the objective's gradient by central differences (independent of backprop)."""
    grad, eps = np.zeros_like(net.params), 1e-6
    for i in range(net.params.size):
        saved = net.params[i]
        net.params[i] = saved + eps
        up = objective(net, x, y, l2)
        net.params[i] = saved - eps
        down = objective(net, x, y, l2)
        net.params[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


def batches(seed: int = 0, n: int = 6):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        yield rng.normal(size=(n, SIZES[0])), one_hot(rng.integers(0, 3, n), 3, np.float64)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("momentum,l2", [(0.0, 0.0), (0.9, 0.0), (0.0, 0.1), (0.9, 0.1)])
def test_sgd_steps_match_hand_computed_updates(cost, momentum, l2):
    """v <- mu v - eta grad J ; theta <- theta + v, with J = mean cost + (l2/2)|W|^2, over 3 steps."""
    net = Network(SIZES, "sigmoid", cost, seed=1, dtype=np.float64)
    net.params += np.random.default_rng(2).normal(0, 0.1, net.params.size)
    reference = net.copy()
    sgd = SGD(net, learning_rate=0.5, momentum=momentum, l2=l2)
    velocity = np.zeros_like(net.params)
    for step, (x, y) in enumerate(batches()):
        eta = 0.5 if step != 1 else 0.2  # a scheduled rate passed to step() overrides the base rate
        velocity = momentum * velocity - eta * objective_gradient(reference, x, y, l2)
        reference.params += velocity
        sgd.step(net.input_batch(x), y, eta if step == 1 else None)
        np.testing.assert_allclose(net.params, reference.params, rtol=0, atol=1e-8)
    assert not np.array_equal(net.params, Network(SIZES, "sigmoid", cost, seed=1, dtype=np.float64).params)


def test_l2_decays_weights_but_not_biases():
    """With a zero cost gradient (outputs already equal the targets), only weight decay acts."""
    net = Network([2, 2], "sigmoid", "cross_entropy", dtype=np.float64)
    net.W[0][...] = [[1.0, -2.0], [0.5, 0.0]]
    net.b[0][...] = [3.0, -3.0]
    x = np.zeros((4, 2))  # inputs 0: dC/dW = 0; outputs softmax(b); targets equal to them: dC/db = 0
    out = net.predict(x)
    sgd = SGD(net, learning_rate=0.1, l2=0.5)
    sgd.step(net.input_batch(x), out.copy())
    np.testing.assert_allclose(net.W[0], np.array([[1.0, -2.0], [0.5, 0.0]]) * (1 - 0.1 * 0.5), atol=1e-15)
    np.testing.assert_allclose(net.b[0], [3.0, -3.0], atol=1e-15)


def test_schedules():
    assert scheduled_rate(3.0, "constant", 0.7) == 3.0
    assert scheduled_rate(2.0, "cosine", 0.0) == pytest.approx(2.0)
    assert scheduled_rate(2.0, "cosine", 0.5) == pytest.approx(1.0)
    assert scheduled_rate(2.0, "cosine", 1.0) == pytest.approx(0.0, abs=1e-12)
    assert scheduled_rate(2.0, "linear", 0.25) == pytest.approx(1.5)
    # Warm-up: a linear ramp over the first 10%, then the schedule runs over the remaining 90%.
    assert scheduled_rate(2.0, "cosine", 0.05, warmup=0.1) == pytest.approx(1.0)
    assert scheduled_rate(2.0, "cosine", 0.55, warmup=0.1) == pytest.approx(1.0)
    assert scheduled_rate(2.0, "cosine", 0.1 + 0.9 / 3, 0.1) == pytest.approx(1 + math.cos(math.pi / 3))
    with pytest.raises(ValueError, match="unknown schedule"):
        scheduled_rate(1.0, "exponential", 0.5)


@pytest.mark.parametrize("kwargs", [{"learning_rate": 0}, {"learning_rate": -1},
                                    {"learning_rate": 1, "momentum": 1}, {"learning_rate": 1, "l2": -0.1}])
def test_sgd_refuses_bad_hyperparameters(kwargs):
    with pytest.raises(ValueError):
        SGD(Network([2, 2]), **kwargs)


@pytest.mark.parametrize("momentum,l2", [(0.0, 0.0), (0.9, 0.01)])
def test_averaging_keeps_the_moving_average_and_changes_no_step(momentum, l2):
    """avg <- d avg + (1 - d) theta after every step, starting from the initial parameters; the
    parameters themselves move exactly as without averaging."""
    plain = SGD(Network(SIZES, seed=3, dtype=np.float64), 0.5, momentum, l2)
    averaged = SGD(Network(SIZES, seed=3, dtype=np.float64), 0.5, momentum, l2, average=0.9)
    expected = averaged.net.params.copy()
    for x, y in batches(seed=5):
        plain.step(plain.net.input_batch(x), y)
        averaged.step(averaged.net.input_batch(x), y)
        expected = 0.9 * expected + 0.1 * averaged.net.params
        np.testing.assert_array_equal(averaged.net.params, plain.net.params)
        assert averaged.averaged is not None
        np.testing.assert_allclose(averaged.averaged, expected, rtol=1e-12)
    model = averaged.model()
    np.testing.assert_array_equal(model.params, averaged.averaged)
    assert model.params is not averaged.averaged and model.sizes == SIZES
    np.testing.assert_array_equal(plain.model().params, plain.net.params)
    with pytest.raises(ValueError, match="average must be in"):
        SGD(Network(SIZES), 0.5, average=1.0)
