"""Run one input through a network and describe every layer, as the video shows it."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.nn.network import Network

FLAT = 1e-4   # outputs closer together than this (rounded to 5 places they look alike) name no digit


def rounded(a: np.ndarray, places: int = 4) -> list:
    """Return a as nested lists of floats rounded to `places` (smaller JSON, same picture)."""
    return np.round(a.astype(np.float64), places).tolist()


def layer_activations(net: Network, x: np.ndarray) -> list[np.ndarray]:
    """Return the activations of every layer after the input, for a batch x (batch, 784)."""
    return net.forward(x.reshape(len(x), -1))[1:]


def flat_note(out: np.ndarray) -> str | None:
    """Return why these ten outputs name no digit (None: they name one). Outputs all alike, or all
    near 0, come from a network that learned nothing: its argmax would say 0 for any drawing."""
    if not np.all(np.isfinite(out)):
        return "the network's outputs are not numbers (its weights overflow), so it names no digit"
    if float(out.max() - out.min()) < FLAT:
        return (f"the network is untrained: its ten outputs are all about {float(out.mean()):.2f} for this "
                "drawing, so it names no digit (train it, or pick another model)")
    return None


def describe(net: Network, x28: np.ndarray, model: dict[str, Any],
             steps: dict[str, np.ndarray] | None = None, untrained: str | None = None) -> dict[str, Any]:
    """Return the predict response of docs/api.md for one 28x28 input (0..1, 1 = ink). `untrained`:
    why the caller knows this network learned nothing (digit null, with that note)."""
    layers = layer_activations(net, x28.reshape(1, 784))
    out = layers[-1][0]
    softmax = net.cost.output.name == "softmax"
    note = flat_note(out) or untrained
    return {"digit": None if note else int(out.argmax()), "note": note, "activations": rounded(out, 5),
            "probabilities": rounded(out, 5) if softmax else None,
            "hidden": [rounded(a[0]) for a in layers[:-1]], "input": rounded(x28, 3),
            "model": model,
            "steps": {k: rounded(v, 3) for k, v in steps.items()} if steps is not None else None}


def warm_up(net: Network | None) -> None:
    """Run one drawing through decoding, preprocessing and (if given) a network, so the first real
    request does not pay for Pillow's plugin loading and first-call set-up."""
    import io

    from PIL import Image, ImageDraw

    from app.imaging import open_image, preprocess

    canvas = Image.new("RGBA", (56, 56), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(20, 10), (36, 10), (24, 46)], fill=(0, 0, 0, 255), width=5)
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    x28 = preprocess(open_image(buf.getvalue())).input
    if net is not None:
        describe(net, x28, {})
