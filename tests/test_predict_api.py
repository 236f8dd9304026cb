"""POST /api/predict: every input form, the model choices, and every error a person can make."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ONE, SEVEN, stroke_png


def check_prediction(body: dict, digit: int | None = None) -> None:
    assert body["digit"] == int(np.argmax(body["activations"]))
    assert len(body["activations"]) == 10
    assert [len(h) for h in body["hidden"]] == body["model"]["sizes"][1:-1]
    x = np.array(body["input"])
    assert x.shape == (28, 28) and 0 <= x.min() and x.max() <= 1 and x.max() > 0.9
    if digit is not None:
        assert body["digit"] == digit, body["activations"]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_upload_each_format(client, fmt):
    data = stroke_png(ONE, fmt=fmt)
    r = client.post("/api/predict", files={"file": (f"one.{fmt.lower()}", data, f"image/{fmt.lower()}")})
    assert r.status_code == 200, r.text
    check_prediction(r.json(), 1)
    assert r.json()["model"]["name"] == "default"  # `best` is not in the test models folder: fallback


def test_data_url_with_transparent_canvas(client):
    url = "data:image/png;base64," + base64.b64encode(stroke_png(SEVEN, paper=None)).decode()
    r = client.post("/api/predict", json={"image": url})
    assert r.status_code == 200, r.text
    check_prediction(r.json(), 7)


def test_both_ink_polarities_give_the_same_input(client):
    dark_on_light = client.post("/api/predict", files={"file": ("a.png", stroke_png(SEVEN), "image/png")})
    light_on_dark = client.post("/api/predict", files={"file": ("b.png", stroke_png(SEVEN, ink=255, paper=0),
                                                                 "image/png")})
    a, b = np.array(dark_on_light.json()["input"]), np.array(light_on_dark.json()["input"])
    assert np.abs(a - b).max() < 0.02


def test_pixels_flat_and_nested(client, mnist):
    digit = mnist.test.images[0]
    flat = client.post("/api/predict", json={"pixels": digit.tolist()})
    nested = client.post("/api/predict", json={"pixels": digit.reshape(28, 28).tolist()})
    assert flat.status_code == nested.status_code == 200
    check_prediction(flat.json(), int(mnist.test.labels[0]))
    assert flat.json()["activations"] == nested.json()["activations"]
    assert np.allclose(np.array(flat.json()["input"]).ravel(), digit, atol=1e-3)  # used as given


def test_steps_are_returned_on_request(client):
    r = client.post("/api/predict?steps=true", files={"file": ("a.png", stroke_png(SEVEN), "image/png")})
    steps = r.json()["steps"]
    assert set(steps) == {"grey", "cropped", "scaled", "centred"}
    scaled = np.array(steps["scaled"])
    assert max(scaled.shape) == 20
    assert steps["centred"] == r.json()["input"]
    assert client.post("/api/predict", files={"file": ("a.png", stroke_png(SEVEN), "image/png")}
                       ).json()["steps"] is None


def test_named_model_and_unknown_model(client):
    r = client.post("/api/predict?model=default", json={"pixels": [0.0] * 400 + [1.0] * 20 + [0.0] * 364})
    assert r.status_code == 200 and r.json()["model"]["kind"] == "shipped"
    # The answer says how good the network that gave it is: the figure stored in its file.
    listed = {m["name"]: m for m in client.get("/api/models").json()}
    assert r.json()["model"] == listed["default"] and 0.5 < r.json()["model"]["test_accuracy"] < 1
    r = client.post("/api/predict?model=nope", json={"pixels": [1.0] * 784})
    assert r.status_code == 404 and "default" in r.json()["detail"]
    r = client.post("/api/predict?model=../../etc/passwd", json={"pixels": [1.0] * 784})
    assert r.status_code == 404 and "not a model name" in r.json()["detail"]


def test_model_and_run_together_is_refused(client):
    r = client.post("/api/predict?model=default&run=r1", json={"pixels": [1.0] * 784})
    assert r.status_code == 422 and "either" in r.json()["detail"]


def test_unknown_run(client):
    r = client.post("/api/predict?run=r99", json={"pixels": [1.0] * 784})
    assert r.status_code == 404 and "r99" in r.json()["detail"]


def png_header_only(width: int, height: int) -> bytes:
    """Return a valid PNG whose header claims width x height, with a tiny (all-zero) body."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = zlib.compress(b"\x00" * (width // 8 + 2) * min(height, 64))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def blank_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (280, 280), 255).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("name, kwargs, status, words", [
    ("empty drawing (image)", {"files": {"file": ("a.png", blank_png(), "image/png")}}, 422, "empty"),
    ("empty drawing (pixels)", {"json": {"pixels": [0.0] * 784}}, 422, "empty"),
    ("not an image", {"files": {"file": ("a.png", b"hello, I am text" * 10, "image/png")}}, 415, "PNG"),
    ("empty file", {"files": {"file": ("a.png", b"", "image/png")}}, 400, "empty"),
    ("truncated PNG", {"files": {"file": ("a.png", stroke_png(ONE)[:300], "image/png")}}, 400, "damaged"),
    ("over 5 MB", {"files": {"file": ("a.png", b"\x89PNG" + b"0" * (5 * 2**20 + 10), "image/png")}}, 413,
     "5 MB"),
    ("over 4096 px", {"files": {"file": ("a.png", png_header_only(4097, 16), "image/png")}}, 413, "4096"),
    ("decompression bomb", {"files": {"file": ("a.png", png_header_only(60000, 60000), "image/png")}}, 413,
     "4096"),
    ("wrong shape", {"json": {"pixels": [0.5] * 783}}, 422, "shape"),
    ("ragged rows", {"json": {"pixels": [[0.5] * 28] * 27 + [[0.5] * 3]}}, 422, "784"),
    ("out of range", {"json": {"pixels": [2.0] * 784}}, 422, "0..1"),
    ("negative", {"json": {"pixels": [-0.1] + [0.5] * 783}}, 422, "0..1"),
    ("not numbers", {"json": {"pixels": ["a"] * 784}}, 422, "784"),
    ("no field", {"json": {"picture": [1]}}, 422, "exactly one"),
    ("both fields", {"json": {"pixels": [1.0] * 784, "image": "data:image/png;base64,AA=="}}, 422,
     "exactly one"),
    ("bad data URL", {"json": {"image": "http://example.com/a.png"}}, 400, "data URL"),
    ("bad base64", {"json": {"image": "data:image/png;base64,@@@"}}, 400, "base64"),
    ("no file field", {"files": {"upload": ("a.png", b"123", "image/png")}}, 422, "'file'"),
    ("not JSON", {"content": b"{pixels", "headers": {"content-type": "application/json"}}, 400, "JSON"),
    ("wrong content type", {"content": b"x", "headers": {"content-type": "text/plain"}}, 415, "multipart"),
])
def test_errors_are_clear(client, name, kwargs, status, words):
    r = client.post("/api/predict", **kwargs)
    assert r.status_code == status, (name, r.text)
    assert words.lower() in r.json()["detail"].lower(), (name, r.json())


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "1e999"])
def test_non_finite_pixels(client, bad):
    body = '{"pixels": [' + ",".join(["0.5"] * 783 + [bad]) + "]}"
    r = client.post("/api/predict", content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422 and "NaN, infinity or null" in r.json()["detail"]


def test_oversized_body_is_refused_before_reading(client):
    body = json.dumps({"image": "data:image/png;base64," + "A" * (8 * 2**20)})
    r = client.post("/api/predict", content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "MB" in r.json()["detail"]
