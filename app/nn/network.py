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
  size of 10 the time goes into the number of NumPy calls, not into arithmetic: a step is 25 calls
  (3 + 9 forward, 2 for every sigma', 3 for the output error, 7 backward, 1 update), bound to their
  buffers once (functools.partial) and run from one compiled function (gradient_function), with
  every operand contiguous (a transposed or strided operand costs NumPy ~0.5-1 us more on these
  shapes);
- the step reads its inputs halved and keeps the hidden layers' activations times 2 or 1/2 (see
  _scales): the sigmoid, computed from tanh(z/2), then needs 9 calls for three layers instead of 12,
  and every number stays an exact power-of-2 multiple of the textbook's (the same weights, bit for
  bit). Callers make their inputs with input_batch().
Measured on a 2-core VM (bench/bench_train_speed.py), ~35 us a step at best: the two 785-wide
products take 15 us, the update 2 us, the other 22 calls ~0.4-1 us each, and a little Python.
Each of these saved 3-7% (together ~15%): the halved inputs, the compiled function (the checks
and attribute lookups of method calls cost ~2-3 us a step), reading each mini-batch where it lies
rather than copying it, and, before them, binding the calls and the contiguous operands. Tried and
dropped, because they measured no faster: a straight-line step written for the 3-layer case only;
uint8 inputs (a quarter of the memory traffic, one more call); gathering the next 100 steps' images
on a second thread (the Trainer instead shuffles each whole epoch on its helper thread:
app/training/trainer.py); np.matmul and np.einsum (slower than np.dot at these sizes); padding 785
to a multiple of 16; merging the first layer's gradient and update into one product ([I | delta]
times [W; x]: 2.5 times the arithmetic, slower). An exp-based sigmoid overflows without one more
call to clip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from .functions import ACTIVATIONS, COSTS, Sigmoid

# Called with `out` positionally: see the module docstring.
dot, multiply, subtract = np.dot, np.multiply, np.subtract
Step = Callable[[np.ndarray, np.ndarray, float], np.ndarray]   # (x_aug, y.T, scale) -> outputs


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
        # The factor by which the training step scales each layer's input: see _scales().
        self.scales = _scales(self.n_layers, self.activation is Sigmoid and self.cost.output is Sigmoid)
        self.input_scale = self.scales[0]
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

    def input_batch(self, x: np.ndarray) -> np.ndarray:
        """Return a batch of inputs (batch, sizes[0]) as gradient() reads them: times input_scale,
        with a last column of input_scale (the input that carries the biases)."""
        s = self.input_scale
        return with_bias_column(np.asarray(x, self.dtype) * np.array(s, self.dtype), s)

    def gradient(self, x_aug: np.ndarray, y: np.ndarray, grad: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Backpropagation. Write into `grad` (shaped like params) the gradient of the summed cost
        over the batch, divided by the cost's gradient_scale (the optimiser multiplies it back), and
        multiplied by `scale` (the optimiser passes -step size, so grad arrives as the step itself).

        x_aug is the input batch made by input_batch(x) (batch, sizes[0] + 1); y is one-hot
        (batch, sizes[-1]). Fastest when x_aug and y.T are C-contiguous (the Trainer passes rows of
        one array, and targets stored transposed). Return the output activations
        (batch, sizes[-1]), valid until the next call.
        """
        x_aug = self.check_input(x_aug)
        return self.gradient_function(len(x_aug), grad)(x_aug, y.T, scale)

    def check_input(self, x_aug: np.ndarray) -> np.ndarray:
        """Return x_aug in this network's dtype, if it is laid out as input_batch() makes it; else
        raise ValueError."""
        if x_aug.dtype != self.dtype:  # np.dot writes into our buffers only from their own dtype
            x_aug = x_aug.astype(self.dtype)
        if x_aug.ndim != 2 or x_aug.shape[1] != self.sizes[0] + 1 or x_aug[0, -1] != self.input_scale:
            raise ValueError(f"the training step reads inputs of shape (batch, {self.sizes[0] + 1}), "
                             f"times {self.input_scale} with a last column of {self.input_scale}: "
                             f"make them with Network.input_batch(x)")
        return x_aug

    def gradient_function(self, batch: int, grad: np.ndarray) -> Step:
        """Return gradient() for mini-batches of `batch` examples into `grad`, as a function
        (x_aug, y_t, scale) -> outputs that checks nothing: x_aug must have passed check_input(), and
        y_t is y.T, one column per example. The training loop calls it at every step (the checks and
        lookups cost ~3 us of a ~35 us step)."""
        ws = self._workspace
        if ws is None or ws.grad is not grad or ws.batch != batch:
            ws = self._workspace = _Workspace(self, batch, grad)
        return ws.run

    def copy(self) -> Network:
        """Return an independent network with the same weights (an immutable snapshot for readers)."""
        return Network(self.sizes, self.activation.name, self.cost.name, dtype=self.dtype,
                       params=self.params.copy())

    def astype(self, dtype: npt.DTypeLike) -> Network:
        """Return a copy computing in another precision (float64 for gradient checks)."""
        return Network(self.sizes, self.activation.name, self.cost.name, dtype=dtype,
                       params=self.params.astype(dtype))


class _Workspace:
    """The training step compiled for one batch size: preallocated buffers, the step's NumPy calls
    bound to them once (functools.partial), and `run`, the function that calls them, so that a step
    allocates nothing and looks nothing up. Inside, each example is a column, as in Nielsen's book
    (z = W a + b): every product is then a plain np.dot on contiguous (or transposed contiguous)
    operands, the fastest call NumPy has for these small shapes."""

    def __init__(self, net: Network, batch: int, grad: np.ndarray):
        dt, sizes, L, f = net.dtype, net.sizes, net.n_layers, net.scales
        self.batch, self.grad = batch, grad
        self.scale = np.array(1.0, dt)      # the step's factor, on delta_L
        self.unscale = 1.0 / f[-1]          # every gradient comes out multiplied by f[-1]: see _scales
        # Every layer's activations, each followed by its bias input (a row of f[k + 1], the scale
        # at which the next layer reads them) except the output's, stacked in one buffer: sigma'(z)
        # of all the layers is then one pass over it.
        rows = [n + 1 for n in sizes[1:-1]] + [sizes[-1]]
        A, S = np.empty((sum(rows), batch), dt), np.zeros((sum(rows), batch), dt)
        tops = np.cumsum([0] + rows)
        a_aug = [A[top:top + r] for top, r in zip(tops, rows, strict=False)]     # a with its bias input
        a = [A[top:top + n] for top, n in zip(tops, sizes[1:], strict=False)]    # (n_l, batch)
        s = [S[top:top + n] for top, n in zip(tops, sizes[1:], strict=False)]    # sigma'(z_l)
        # f[k + 1] on each row of layer k (1 on the output's), at A's full shape: NumPy broadcasting
        # a column costs ~1 us more than the whole subtraction.
        row_scale = np.ones((sum(rows), batch), dt)
        for k in range(L - 1):
            row_scale[tops[k]:tops[k + 1]] = f[k + 1]
            A[tops[k + 1] - 1] = f[k + 1]
        z = [np.empty((n, batch), dt) for n in sizes[1:]]
        # Backpropagating through Wb^T (contiguous, unlike W^T, which np.dot would copy first)
        # gives one row too many, the bias's: each delta lives in the first rows of its buffer.
        delta = [np.empty((r + 1 if k < L - 1 else r, batch), dt)[:r]
                 for k, r in enumerate(sizes[1:])]
        G = _views(grad, [wb.shape for wb in net.Wb])                            # dC/dWb, in grad

        self.forward: list = []
        for k in range(L):
            if k:
                self.forward.append(partial(dot, net.Wb[k], a_aug[k - 1], z[k]))   # z = W a + b
            act, out_scale = net.layer_activation(k), f[k + 1] if k < L - 1 else 1.0
            if f[k] == out_scale == 1.0:
                self.forward += act.calls(z[k], a[k])                              # a' = sigma(z)
            else:                                       # f[k] z in, f[k + 1] sigma(z) out (sigmoid)
                self.forward += act.calls(z[k], a[k], f[k], out_scale)
        # sigma'(z) of the hidden layers in one pass, and the output layer in the same pass when it
        # uses the same function (sigmoid + quadratic cost); softmax needs no sigma' (dC/dz = a - y).
        hidden, output = net.activation.prime_calls, net.cost.output.prime_calls
        end = sum(rows[:-1])
        if hidden is output:
            self.forward += hidden(A, S) if set(f) == {1.0} else hidden(A, S, row_scale)
        else:
            if end:
                self.forward += hidden(A[:end], S[:end])
            if output is not None:
                self.forward += output(A[end:], S[end:])

        # delta_L from delta_out = a - y (the step subtracts y), times the step's factor.
        self.backward: list = net.cost.delta_calls(delta[-1], s[-1])
        self.backward.append(partial(multiply, delta[-1], self.scale, delta[-1]))
        for k in range(L - 1, 0, -1):                               # from the top
            self.backward += [
                partial(dot, delta[k], a_aug[k - 1].T, G[k]),           # dC/dW and dC/db together
                partial(dot, net.Wb[k].T, delta[k], delta[k - 1].base),  # W^T delta_l (+ a bias row)
                partial(multiply, delta[k - 1], s[k - 1], delta[k - 1]),  # ... * sigma'(z_{l-1})
            ]
        self.run = self._compile(net.Wb[0], z[0], a[-1], delta[-1], delta[0], G[0])

    def _compile(self, first: np.ndarray, z_0: np.ndarray, a_out: np.ndarray, delta_out: np.ndarray,
                 delta_0: np.ndarray, G_0: np.ndarray) -> Step:
        """Return the step as one function over local names (Python looks each name up at every step,
        and a closure's are the cheapest to reach)."""
        forward, backward = tuple(self.forward), tuple(self.backward)
        factor, unscale, out = self.scale, self.unscale, a_out.T
        last = [1.0]                                # the factor last written into `factor`

        def run(x_aug: np.ndarray, y_t: np.ndarray, scale: float) -> np.ndarray:
            # The two products with the input are called here rather than bound: the caller may pass a
            # new array at every step (the Trainer passes rows of its epoch's array, without a copy).
            dot(first, x_aug.T, z_0)             # z_1 = W a_0 + b: one column per example
            for call in forward:                 # every other layer's z and a, then every sigma'(z)
                call()
            subtract(a_out, y_t, delta_out)      # a - y, then (in backward) delta_L = dC/dz_L,
            scale *= unscale                     # times scale: scaling delta_L scales every
            if scale != last[0]:                 # gradient (backpropagation is linear)
                factor[()] = last[0] = scale
            for call in backward:                # every layer's delta and dC/dW, from the top
                call()
            dot(delta_0, x_aug, G_0)             # dC/dW and dC/db of the first layer
            return out
        return run


def _scales(n_layers: int, sigmoid: bool) -> list[float]:
    """Return f[0..L-1]: weight layer k of the training step reads its input times f[k] (f[0]: the
    input batch, see Network.input_batch); the output layer's activations are not scaled.

    Why: sigma(z) is computed from tanh(z/2) (functions.py), and the multiplications by 1/2 on the
    way in and on the way out cost NumPy calls. Reading z already halved (f[k] = 1/2), or keeping a
    hidden layer's activations doubled (f[k + 1] = 2: 2 sigma = 1 + tanh(z/2)), saves one call each.
    Backpropagation stays exact if f alternates (f[k - 1] = 1 / f[k]): a layer stored times f[k]
    has (f[k] - a) a = f[k]^2 sigma'(z) as its sigma' (one pass over all layers, with f per row),
    which turns delta_{k-1} into f[k]^2 times itself, and the gradient of every layer then comes out
    times the same f[L-1]: the step folds 1/f[L-1] into the output error. All factors are powers of 2,
    so every number is an exact multiple of the textbook's and the weights are the same, bit for bit.
    For the video's 784-16-16-10 sigmoid network, f = [1/2, 2, 1/2]: 9 calls for the three sigmoids
    instead of 12."""
    if not sigmoid:
        return [1.0] * n_layers

    def calls(f: list[float]) -> int:   # a multiply unless z comes halved, tanh, 1 or 2 calls out
        stored = f[1:] + [1.0]           # the scale each layer's activations are kept at
        return sum((f_in != 0.5) + 1 + (1 if f_out == 2.0 else 2)
                   for f_in, f_out in zip(f, stored, strict=True))

    options = []
    for top in (1.0, 0.5, 2.0):                  # 1.0 first: the plain form wins ties
        f = [top]
        while len(f) < n_layers:
            f.insert(0, 1.0 / f[0])
        options.append(f)
    return min(options, key=calls)


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


def with_bias_column(x: np.ndarray, value: float = 1.0) -> np.ndarray:
    """Return x with a trailing column of ones (the constant input that carries each bias), or of
    `value`."""
    out = np.full((x.shape[0], x.shape[1] + 1), value, dtype=x.dtype)
    out[:, :-1] = x
    return out
