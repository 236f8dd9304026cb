"""The lessons' maths, checked against numbers: descent steps, valleys, the per-weight gradient
map against finite differences, and the single-example cost against QuadraticCost.fn."""

from __future__ import annotations

import numpy as np
import pytest

from app.lessons import landscape as land
from app.lessons.example import average_cost, example_cost, largest_nudges, parameter_gradient
from app.lessons.noise import confidence, noise_images
from app.nn.functions import QuadraticCost
from app.nn.network import Network, one_hot


def test_slopes_match_finite_differences():
    h = 1e-6
    for x in np.linspace(-4.5, 4.5, 19):
        assert land.slope1(x) == pytest.approx((land.f1(x + h) - land.f1(x - h)) / (2 * h), abs=1e-6)
    for x, y in [(-3.1, 0.4), (0.0, 0.0), (2.2, -1.7), (1.0, 2.5)]:
        gx, gy = land.grad2(x, y)
        assert gx == pytest.approx((land.f2(x + h, y) - land.f2(x - h, y)) / (2 * h), abs=1e-6)
        assert gy == pytest.approx((land.f2(x, y + h) - land.f2(x, y - h)) / (2 * h), abs=1e-6)


def test_one_step_is_minus_rate_times_slope():
    assert land.step1(1.5, 0.1) == pytest.approx(1.5 - 0.1 * float(land.slope1(1.5)))
    gx, gy = land.grad2(0.7, -0.3)
    assert land.step2((0.7, -0.3), 0.25) == pytest.approx((0.7 - 0.25 * gx, -0.3 - 0.25 * gy))


def test_the_1d_function_has_several_valleys_and_starts_pick_them():
    minima = land.local_minima_1d()
    assert len(minima) == 3
    ends = {round(land.descend1(x0, 0.1, 500).points[-1][0], 2) for x0 in (-4.0, 0.0, 3.0)}
    assert len(ends) == 3, "three starts, three different valleys"
    for end in ends:
        assert min(abs(end - m) for m in minima) < 0.01


def test_steps_shrink_as_the_slope_flattens():
    path = land.descend1(-4.5, 0.05, 200)
    sizes = np.abs(np.diff([p[0] for p in path.points]))
    assert path.outcome == "settled"
    assert sizes[-1] < sizes[0] / 100
    assert all(b <= a + 1e-12 for a, b in zip(sizes[5:], sizes[6:], strict=False))  # monotone near the floor
    assert path.values[-1] < path.values[0]


def test_a_large_rate_overshoots_then_diverges():
    calm = land.descend1(3.0, 0.1, 500)
    wobbly = land.descend1(3.0, 1.0, 100)
    wild = land.descend1(3.0, 2.0, 100)
    assert calm.outcome == "settled"
    assert wobbly.outcome == "moving"  # bounces across the valley without settling
    xs = np.array([p[0] for p in wobbly.points[-10:]])
    assert np.any(xs > 2.275) and np.any(xs < 2.275)
    assert wild.outcome == "diverged"


def test_2d_descent_lowers_the_cost_and_reaches_different_valleys():
    ends = set()
    for start in [(-3.0, -3.0), (3.0, 3.0), (-3.0, 3.0), (1.0, -3.0)]:
        path = land.descend2(start, 0.5, 500)
        assert path.outcome == "settled"
        assert all(b <= a + 1e-12 for a, b in zip(path.values, path.values[1:], strict=False))
        gx, gy = land.grad2(*path.points[-1])
        assert np.hypot(gx, gy) < 1e-3
        ends.add(tuple(round(c, 1) for c in path.points[-1]))
    assert len(ends) == 4
    assert land.descend2((0.5, 0.5), 30.0, 50).outcome == "diverged"


def test_importance_reads_the_gradient_as_relative_weight():
    imp = land.importance(3.0, 1.0)
    assert imp["ratio"] == pytest.approx(3.0)
    assert imp["x_share"] == pytest.approx(0.75)
    assert imp["more"] == "x"
    assert land.importance(0.0, 0.0)["more"] == "neither"


@pytest.fixture(scope="module")
def net():
    return Network([784, 16, 16, 10], seed=3, dtype=np.float64)


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return rng.random(784) * (rng.random(784) < 0.2)


def test_example_cost_matches_quadratic_cost(net, image):
    result = example_cost(net, image, 7)
    a = net.predict(image.reshape(1, -1))
    assert result.cost == pytest.approx(float(QuadraticCost.fn(a, one_hot(np.array([7]), 10, np.float64))[0]))
    assert result.squared.sum() == pytest.approx(result.cost)
    assert result.desired.tolist() == [0] * 7 + [1] + [0] * 2
    assert result.digit == int(a.argmax())


def test_average_cost_is_the_mean_of_example_costs(net):
    rng = np.random.default_rng(1)
    images, labels = rng.random((20, 784)), rng.integers(0, 10, 20)
    cost, acc = average_cost(net, images, labels, batch=7)
    each = [example_cost(net, x, y).cost for x, y in zip(images, labels, strict=True)]
    assert cost == pytest.approx(np.mean(each))
    assert acc == pytest.approx(np.mean(net.predict(images).argmax(1) == labels))


@pytest.mark.parametrize("cost_name", ["quadratic", "cross_entropy"])
def test_gradient_map_matches_finite_differences(image, cost_name):
    net = Network([784, 16, 16, 10], cost=cost_name, seed=5, dtype=np.float64)
    grad = parameter_gradient(net, image, 4)
    y = one_hot(np.array([4]), 10, np.float64)
    h = 1e-6
    # a few first-layer weights on inked pixels, a first-layer bias, and later-layer weights
    inked = np.flatnonzero(image > 0.1)[:3]
    checks = [(0, 2, int(p)) for p in inked] + [(0, 5, 784), (1, 3, 7), (2, 4, 16), (2, 1, 2)]
    for layer, row, col in checks:
        saved = net.Wb[layer][row, col]
        net.Wb[layer][row, col] = saved + h
        up = float(net.costs(image.reshape(1, -1), y)[0])
        net.Wb[layer][row, col] = saved - h
        down = float(net.costs(image.reshape(1, -1), y)[0])
        net.Wb[layer][row, col] = saved
        assert grad.Wb[layer][row, col] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-9)


def test_gradient_map_leaves_the_network_alone_and_blank_pixels_get_zero(net, image):
    before = net.params.copy()
    grad = parameter_gradient(net, image, 2)
    assert np.array_equal(net.params, before)
    blank = image == 0
    assert np.all(grad.W[0][:, blank] == 0), "a weight from an empty pixel cannot change the cost"


def test_largest_nudges_are_sorted_and_located(net, image):
    grad = parameter_gradient(net, image, 2)
    nudges = largest_nudges(net, grad, k=10)
    sizes = [abs(n.gradient) for n in nudges]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] == pytest.approx(np.abs(grad.params).max())
    for n in nudges:
        col = n.source if n.kind == "weight" else -1
        assert grad.Wb[n.layer][n.neuron, col] == n.gradient
        assert net.Wb[n.layer][n.neuron, col] == n.value


def test_noise_images_have_the_promised_kinds():
    u = noise_images("uniform", 50, 0)
    assert u.shape == (50, 784) and 0 <= u.min() and u.max() <= 1 and abs(u.mean() - 0.5) < 0.02
    s = noise_images("salt", 50, 0, density=0.1)
    assert set(np.unique(s)) <= {0.0, 1.0} and abs(s.mean() - 0.1) < 0.01
    assert not noise_images("blank", 3, 0).any()
    assert np.array_equal(noise_images("gaussian", 5, 9), noise_images("gaussian", 5, 9))
    with pytest.raises(ValueError, match="choose from"):
        noise_images("pink", 1, 0)


def test_confidence_counts_winners(net):
    result = confidence(net, noise_images("uniform", 40, 1))
    assert sum(result.winners) == 40 and len(result.winners) == 10
    assert 0 < result.mean_top <= 1
