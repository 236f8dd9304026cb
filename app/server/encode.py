"""Compact JSON messages for the live channel: first-layer weights as int8 + scale, activations."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from app.nn.network import Network

MAX_NEURONS = 64


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, allow_nan=False, separators=(",", ":"))


def default_neurons(net: Network) -> tuple[int, ...]:
    """Return the first-layer neurons streamed unless a client asks: all of them, at most the first 64."""
    return tuple(range(min(net.sizes[1], MAX_NEURONS)))


def valid_neurons(indices: object, net: Network | None) -> tuple[int, ...]:
    """Return the requested neuron indices, or raise ValueError saying what is wrong."""
    if not isinstance(indices, list) or not 1 <= len(indices) <= MAX_NEURONS:
        raise ValueError(f"'indices' must be a list of 1 to {MAX_NEURONS} neuron numbers")
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indices):
        raise ValueError("'indices' must hold whole numbers >= 0")
    if net is not None and max(indices) >= net.sizes[1]:
        raise ValueError(f"the first hidden layer has {net.sizes[1]} neurons (0 to {net.sizes[1] - 1})")
    return tuple(dict.fromkeys(indices))


def weights_message(net: Network, step: int, neurons: tuple[int, ...]) -> str:
    """Return the `weights` message: each neuron's 784 incoming weights as int8, value = q / 127 * scale."""
    neurons = tuple(i for i in neurons if i < net.sizes[1]) or default_neurons(net)
    W = net.W[0][list(neurons)]                                   # (len(neurons), 784)
    scale = float(np.abs(W).max())
    q = np.zeros(W.shape, np.int8) if scale == 0 else np.round(W * (127.0 / scale)).astype(np.int8)
    return dumps({"type": "weights", "step": step, "neurons": list(neurons), "shape": [28, 28],
                  "scale": scale, "data": base64.b64encode(q.tobytes()).decode("ascii")})


def activation_payloads(net: Network, step: int, drawings: np.ndarray) -> list[dict[str, Any]]:
    """Return one `activations` message (as a dict) per row of drawings (k, 784), in one batch."""
    layers = net.forward(drawings)[1:]
    out = layers[-1]
    return [{"type": "activations", "step": step, "digit": int(out[i].argmax()),
             "layers": [np.round(a[i].astype(np.float64), 4).tolist() for a in layers], "input": None}
            for i in range(len(drawings))]
