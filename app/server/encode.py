"""Compact JSON messages for the live channel: first-layer weights as int8 + scale, activations."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from app.nn.network import Network

from .inference import FLAT, flat_note

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
    messages = []
    for i in range(len(drawings)):
        note = flat_note(out[i])   # a network that learned nothing names no digit (not argmax's 0)
        messages.append({"type": "activations", "step": step, "digit": None if note else int(out[i].argmax()),
                         "layers": [np.round(a[i].astype(np.float64), 4).tolist() for a in layers],
                         "input": None, **({"note": note} if note else {})})
    return messages


def activation_messages(net: Network, step: int, drawings: np.ndarray) -> list[str]:
    """Return dumps() of each of activation_payloads(net, step, drawings), the same text, made for a
    class at a time (the live feed answers every drawing about 12 times a second): each layer is rounded
    and made into lists once for the whole batch, and the outputs that name no digit are found in one
    array operation (flat_note then words only those)."""
    layers = net.forward(drawings)[1:]
    out = layers[-1]                                                      # (k, 10)
    rows = [np.round(a.astype(np.float64), 4).tolist() for a in layers]    # per layer, (k, n) lists
    finite = np.all(np.isfinite(out), axis=1)
    named = finite & (out.max(axis=1) - out.min(axis=1) >= FLAT)
    digits = out.argmax(axis=1).tolist()
    texts = []
    for i in range(len(drawings)):
        note = None if named[i] else flat_note(out[i])
        texts.append(dumps({"type": "activations", "step": step, "digit": None if note else digits[i],
                            "layers": [layer[i] for layer in rows], "input": None,
                            **({"note": note} if note else {})}))
    return texts


SHOWN = 16     # neurons per layer in the network picture; wider layers show their 16 strongest
STRONGEST = 12  # input pixels drawn per shown first-layer neuron


def shown_neurons(net: Network) -> list[list[int]]:
    """Return, per layer after the input, the neurons the picture shows: all of a layer of at most
    SHOWN, else the SHOWN with the largest incoming plus outgoing weight norm (in order)."""
    shown = []
    for layer in range(1, len(net.sizes)):
        n = net.sizes[layer]
        if n <= SHOWN:
            shown.append(list(range(n)))
            continue
        strength = np.linalg.norm(net.W[layer - 1], axis=1)               # incoming, (n,)
        if layer < len(net.sizes) - 1:
            strength = strength + np.linalg.norm(net.W[layer], axis=0)   # outgoing
        shown.append(sorted(int(i) for i in np.argsort(strength)[-SHOWN:]))
    return shown


def network_message(net: Network, step: int) -> dict[str, Any]:
    """Return the `network` message: the shown neurons, their strongest input pixels, the weights
    between shown neurons of consecutive layers and their biases (docs/api.md)."""
    shown = shown_neurons(net)
    W1 = net.W[0][shown[0]]                                             # (shown, 784)
    top = np.argsort(-np.abs(W1), axis=1)[:, :STRONGEST]
    inputs = [{"neuron": j, "pixels": [int(k) for k in row], "weights": np.round(W1[r, row].astype(
        np.float64), 4).tolist()} for r, (j, row) in enumerate(zip(shown[0], top, strict=True))]
    weights = [net.W[k][np.ix_(shown[k], shown[k - 1])] for k in range(1, len(shown))]
    biases = [net.b[k][shown[k]] for k in range(len(shown))]
    scale = [float(np.abs(W1).max())] + [float(np.abs(w).max()) if w.size else 0.0 for w in weights]
    return {"type": "network", "step": step, "sizes": net.sizes, "shown": shown, "inputs": inputs,
            "weights": [_rounded(w) for w in weights], "biases": [_rounded(b) for b in biases],
            "scale": scale}


def _rounded(a: np.ndarray) -> list:
    return np.round(a.astype(np.float64), 4).tolist()


def neuron_map(net: Network, layer: int, index: int) -> dict[str, Any]:
    """Return what neuron `index` of `layer` (1-based, as in the picture) looks for, in pixels: its
    own 784 weights (layer 1), or its weights composed with the earlier layers' (a linear map that
    ignores the activations between them). Raises ValueError for a neuron that does not exist."""
    if not 1 <= layer < len(net.sizes):
        raise ValueError(f"layer must be 1 to {len(net.sizes) - 1} (got {layer})")
    if not 0 <= index < net.sizes[layer]:
        raise ValueError(f"layer {layer} has {net.sizes[layer]} neurons: index 0 to {net.sizes[layer] - 1} "
                         f"(got {index})")
    row = net.W[layer - 1][index].astype(np.float64)
    for k in range(layer - 2, -1, -1):
        row = row @ net.W[k]
    return {"layer": layer, "index": index, "shape": [28, 28], "map": np.round(row, 5).tolist(),
            "kind": "weights" if layer == 1 else "combined", "bias": float(net.b[layer - 1][index])}
