"""Pixels must be JSON numbers: text and true/false are refused with a 422 that says where, at predict,
at the lessons' drawing endpoints and in a live `draw` message (NumPy reads "0.5" and true as numbers)."""

from __future__ import annotations

import pytest

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
