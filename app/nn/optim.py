"""Mini-batch stochastic gradient descent: step downhill, against the gradient.

theta <- theta - eta * (1/m) sum_x grad C_x(theta)  (+ momentum, + L2), with eta from a schedule.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from . import fast
from .network import Network

SCHEDULES = ("constant", "cosine", "linear")


def scheduled_rate(base: float, schedule: str, progress: float, warmup: float = 0.0) -> float:
    """Return the learning rate at `progress` in [0, 1] of training: constant, cosine or linear
    decay to 0, after an optional linear warm-up over the first `warmup` fraction."""
    if warmup > 0 and progress < warmup:
        return base * (progress + 1e-9) / warmup
    if schedule == "constant":  # first: the trainer asks at every step
        return base
    t = (progress - warmup) / (1 - warmup) if warmup > 0 else progress
    t = min(max(t, 0.0), 1.0)
    if schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * t))
    if schedule == "linear":
        return base * (1.0 - t)
    raise ValueError(f"unknown schedule {schedule!r}; choose from {SCHEDULES}")


class SGD:
    def __init__(self, net: Network, learning_rate: float, momentum: float = 0.0, l2: float = 0.0,
                 average: float = 0.0):
        """Optimise net in place. l2 adds (l2/2) * sum(w^2) to the cost (weights only, not biases).
        average > 0 also keeps `averaged`, an exponential moving average of the parameters after each
        step (Polyak averaging, decay `average`: 0.99 weighs about the last 100 steps). It changes
        nothing in the training; read out instead of the parameters, it is a better model while the
        rate is still high, because it averages away the jitter of the individual steps."""
        if learning_rate <= 0:
            raise ValueError(f"learning rate must be > 0, got {learning_rate}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {l2}")
        if not 0.0 <= average < 1.0:
            raise ValueError(f"average must be in [0, 1), got {average}")
        self.net, self.learning_rate, self.momentum, self.l2 = net, learning_rate, momentum, l2
        self.average = average
        self.grad = np.zeros_like(net.params)
        self.gradient_scale = net.cost.gradient_scale
        self._step: tuple | None = None             # (batch size, its compiled step): step_function()
        self._input_scale = fast.layer_scales(net)[0]   # step() checks its inputs' layout against it
        # 0-d arrays of the parameters' dtype: NumPy would convert a Python float at every call
        self.momentum_0d, self.eta = np.array(momentum, net.dtype), np.array(learning_rate, net.dtype)
        params, step = net.params, self.grad   # the fast step hands back the update itself: see _compile
        # The update's calls, bound once to their arrays (as fast.py binds the gradient's calls).
        self._update: list = []
        if l2:
            # weight decay: the gradient of (l2/2) |w|^2 is l2 * w, so the step gains -eta l2 w
            # (the decay array is l2 on each weight and 0 on each bias: the last column of each Wb).
            self.decay = np.full_like(params, l2)
            for block in net.Wb:
                block_mask = np.zeros(block.shape, dtype=bool)
                block_mask[:, -1] = True
                start = (block.__array_interface__["data"][0] - params.__array_interface__["data"][0])
                start //= params.itemsize
                self.decay[start:start + block.size][block_mask.ravel()] = 0.0
            self.scratch = np.empty_like(params)
            self._update += [partial(np.multiply, params, self.decay, self.scratch),
                             partial(np.multiply, self.scratch, self.eta, self.scratch),
                             partial(np.subtract, step, self.scratch, step)]
        self.velocity = np.zeros_like(params) if momentum else None
        if self.velocity is not None:
            # v <- mu v - eta g ;  theta <- theta + v   (classical momentum: the ball keeps rolling)
            self._update += [partial(np.multiply, self.velocity, self.momentum_0d, self.velocity),
                             partial(np.add, self.velocity, step, self.velocity)]
            step = self.velocity
        self._update.append(partial(np.add, params, step, params))
        self.averaged = params.copy() if average else None
        if self.averaged is not None:
            # avg <- d avg + (1 - d) theta
            self._keep_0d, self._rest_0d = np.array(average, net.dtype), np.array(1 - average, net.dtype)
            self._avg_scratch = np.empty_like(params)
            self._update += [partial(np.multiply, self.averaged, self._keep_0d, self.averaged),
                             partial(np.multiply, params, self._rest_0d, self._avg_scratch),
                             partial(np.add, self.averaged, self._avg_scratch, self.averaged)]

    def model(self) -> Network:
        """Return a copy of the model this optimiser produces: the averaged parameters when
        averaging, else the parameters as trained."""
        if self.averaged is None:
            return self.net.copy()
        net = self.net
        return Network(net.sizes, net.activation.name, net.cost.name, dtype=net.dtype,
                       params=self.averaged.copy())

    def restore(self, params: np.ndarray) -> None:
        """Set the parameters (and the average, if any) to `params`, e.g. the last good ones."""
        self.net.params[...] = params
        if self.averaged is not None:
            self.averaged[...] = params

    def step(self, x_aug: np.ndarray, y: np.ndarray, learning_rate: float | None = None) -> np.ndarray:
        """Take one step on a mini-batch (x_aug from net.input_batch(x), y one-hot); return its output
        activations (valid until the next step)."""
        x_aug = fast.check_input(self.net, x_aug, self._input_scale)
        eta = self.learning_rate if learning_rate is None else learning_rate
        return self.step_function(len(x_aug))(x_aug, y.T, eta)

    def step_function(self, batch: int) -> fast.Step:
        """Return step() for mini-batches of `batch` examples as a function (x_aug, y_t, rate) ->
        outputs that checks nothing (x_aug must have passed net.check_input(); y_t is y.T): the
        training loop's step."""
        if self._step is None or self._step[0] != batch:
            self._step = (batch, self._compile(batch))
        return self._step[1]

    def _compile(self, batch: int) -> fast.Step:
        gradient = fast.gradient_step(self.net, batch, self.grad)
        update, minus_gradient_scale = tuple(self._update), -self.gradient_scale
        l2, eta_0d = self.l2, self.eta

        def step(x_aug: np.ndarray, y_t: np.ndarray, eta: float) -> np.ndarray:
            # One factor folds the step size, the batch mean (1/m) and the cost's constant into the
            # output error, so backpropagation hands back the step itself: -eta * (1/m) sum_x grad C_x.
            out = gradient(x_aug, y_t, eta * minus_gradient_scale / batch)
            if l2:
                eta_0d[()] = eta
            for call in update:
                call()
            return out
        return step
