"""Pixels must be JSON numbers: text and true/false are refused with a 422 that says where, at predict,
at the lessons' drawing endpoints and in a live `draw` message (NumPy reads "0.5" and true as numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from app.imaging import ImageError
from app.server.api.routes.predict import only_numbers, refuse_text

SEVEN = [0.0] * 300 + [1.0] * 20 + [0.0] * 464


@pytest.mark.parametrize("pixels, where", [
    (["0.5"] * 784, "pixels[0]"),
    ([True] * 784, "pixels[0]"),
    (SEVEN[:783] + [False], "pixels[783]"),
    ([[0.0] * 28] * 27 + [[0.0] * 27 + ["1"]], "pixels[27][27]"),
])
def test_text_and_booleans_are_not_pixels(client, pixels, where):
    for path in ("/api/predict", "/api/lessons/example?label=7"):
        r = client.post(path, json={"pixels": pixels})
        assert r.status_code == 422, (path, r.text)
        assert where in r.json()["detail"] and "true/false" in r.json()["detail"], r.json()
    assert client.post("/api/predict", json={"pixels": SEVEN}).status_code == 200


def test_a_live_draw_with_text_pixels_gets_an_error(client):
    run = client.post("/api/runs", json={"hidden": [8], "epochs": 1, "train_subset": 200,
                                         "validation_size": 0}).json()
    with client.websocket_connect(f"/api/runs/{run['id']}/live") as ws:
        ws.send_json({"type": "draw", "pixels": ["0.5"] * 784})
        while (message := ws.receive_json())["type"] != "error":
            assert message["type"] != "activations", "text pixels were read as numbers"
        assert "pixels[0]" in message["message"]
    client.post(f"/api/runs/{run['id']}/stop")


def cases() -> list[object]:
    """Pixels of every shape and kind a client may send: numbers flat and nested, text, true/false,
    null, nested too deep, not a list at all, each in a few places."""
    rng = np.random.default_rng(0)
    found: list[object] = [[], [[]], 7, "0.5", None, {"a": 1}, SEVEN, [[0.5] * 28] * 28, [1] * 784]
    odd = ["1", True, False, None, [0.5], {"x": 1}, 0, 1.0]
    for _ in range(300):
        flat = rng.random(784).round(2).tolist()
        nested = [flat[r * 28:(r + 1) * 28] for r in range(28)]
        value = odd[rng.integers(len(odd))]
        if rng.random() < 0.5:
            flat[int(rng.integers(784))] = value
            found.append(flat)
        else:
            nested[int(rng.integers(28))][int(rng.integers(28))] = value
            found.append(nested if rng.random() < 0.8 else nested[:5] + [0.5] + nested[6:])
    return found


def test_the_fast_check_for_numbers_agrees_with_looking_at_every_value():
    """only_numbers (the fast path) may only say yes where refuse_text (the reference) finds nothing."""
    said_yes = 0
    for pixels in cases():
        try:
            refuse_text(pixels)
            refused = False
        except ImageError:
            refused = True
        if only_numbers(pixels):
            said_yes += 1
            assert not refused, pixels
    assert said_yes >= 10   # the fast path is taken for plain numbers, flat and nested
