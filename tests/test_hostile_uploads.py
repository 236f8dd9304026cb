"""Hostile and broken uploads that tests/test_predict_api.py does not already send.

(That file covers zero bytes, truncated PNG, text named .png, 4097 and 60000 px headers, 783 values,
NaN/infinity/negative pixels and an 8 MB data URL.) Each case here gets a clear 4xx, or the same
answer as the plain image where the file is valid, with bounded memory.
"""

from __future__ import annotations

import io
import json
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.conftest import ONE, SEVEN
from tests.test_predict_api import png_header_only

MEMORY = 16 * 2**20  # bytes of Python/NumPy allocations a single hostile request may cause


def drawing(points) -> Image.Image:
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line(points, fill=0, width=18, joint="curve")
    return image


def encode(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def upload(client, data: bytes, name: str = "a.png", mime: str = "image/png"):
    return client.post("/api/predict", files={"file": (name, data, mime)})


def traced(fn):
    """Return (result, peak bytes of Python/NumPy allocations while it ran)."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def plain_seven(client) -> np.ndarray:
    r = upload(client, encode(drawing(SEVEN)))
    assert r.status_code == 200
    return np.array(r.json()["input"])


def sixteen_bit(image: Image.Image) -> bytes:
    return encode(Image.fromarray(np.array(image).astype(np.uint16) * 257))


def exif_rotated(image: Image.Image) -> bytes:
    """Return a JPEG stored sideways (turned 90° anticlockwise) with EXIF Orientation 6, which
    tells a viewer to turn it 90° clockwise: what a phone held upright writes."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(image.rotate(90, expand=True).convert("RGB"), "JPEG", exif=exif.tobytes(), quality=95)


def animated_gif(first: Image.Image, second: Image.Image) -> bytes:
    return encode(first.convert("P"), "GIF", save_all=True, append_images=[second.convert("P")],
                  duration=100, loop=0)


@pytest.mark.parametrize("name, make, mime", [
    ("16-bit greyscale PNG", lambda im: sixteen_bit(im), "image/png"),
    ("palette PNG", lambda im: encode(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)),
     "image/png"),
    ("CMYK JPEG", lambda im: encode(im.convert("CMYK"), "JPEG", quality=95), "image/jpeg"),
    ("EXIF-rotated JPEG", exif_rotated, "image/jpeg"),
    ("animated GIF (first frame counts)", lambda im: animated_gif(im, drawing(ONE)), "image/gif"),
])
def test_valid_but_unusual_images_read_like_the_plain_one(client, plain_seven, name, make, mime):
    r = upload(client, make(drawing(SEVEN)), mime=mime)
    assert r.status_code == 200, (name, r.text)
    seen = np.array(r.json()["input"])
    assert np.abs(seen - plain_seven).mean() < 0.02, f"{name}: the 28x28 differs from the plain PNG's"
    assert r.json()["digit"] == 7, name


def test_the_exif_check_can_tell_sideways_from_upright(client, plain_seven):
    """Without the Orientation tag, the same sideways pixels give a different 28x28."""
    sideways = encode(drawing(SEVEN).rotate(90, expand=True).convert("RGB"), "JPEG", quality=95)
    seen = np.array(upload(client, sideways, mime="image/jpeg").json()["input"])
    assert np.abs(seen - plain_seven).mean() > 0.05


def chunked_json(payload: str) -> dict:
    return {"content": payload.encode(), "headers": {"content-type": "application/json"}}


@pytest.mark.parametrize("name, kwargs, status, words", [
    ("PNG claiming 20000x20000", {"files": {"file": ("a.png", png_header_only(20000, 20000), "image/png")}},
     413, "4096"),
    ("50 MB multipart body", {"files": {"file": ("a.png", b"\x89PNG" + bytes(50 * 2**20), "image/png")}},
     413, "5 MB"),
    ("50 MB JSON body", chunked_json('{"pixels": [' + "0," * (25 * 2**20) + "0]}"), 413, "MB"),
    ("deeply nested JSON", chunked_json("[" * 200_000 + "]" * 200_000), 400, "nested"),
    ("deeply nested pixels", chunked_json('{"pixels": ' + "[" * 100_000 + "]" * 100_000 + "}"), 400,
     "nested"),
    ("huge JSON within the limit", chunked_json('{"pixels": [' + "0.5," * 1_500_000 + "0.5]}"), 422, "784"),
    ("4000 values", {"json": {"pixels": [0.5] * 4000}}, 422, "784"),
    ("785 values", {"json": {"pixels": [0.5] * 785}}, 422, "784"),
    ("28 rows of 29", {"json": {"pixels": [[0.5] * 29] * 28}}, 422, "784"),
    ("-Infinity", chunked_json('{"pixels": [' + "0.5," * 783 + "-Infinity]}"), 422, "infinity"),
    ("null pixel", {"json": {"pixels": [0.5] * 783 + [None]}}, 422, "null"),
    ("pixels as a string", {"json": {"pixels": "0.5" * 784}}, 422, "784"),
    ("pixels as an object", {"json": {"pixels": {"0": 1}}}, 422, "784"),
    ("image not a string", {"json": {"image": 12}}, 422, "data url"),
    ("a JSON list, not an object", {"json": [1, 2, 3]}, 422, "exactly one"),
    ("data URL of text", {"json": {"image": "data:image/png;base64,aGVsbG8gd29ybGQ="}}, 415, "PNG"),
])
def test_hostile_bodies_get_a_clear_4xx_with_bounded_memory(client, name, kwargs, status, words):
    r, peak = traced(lambda: client.post("/api/predict", **kwargs))
    assert r.status_code == status, (name, r.text[:300])
    assert words.lower() in r.json()["detail"].lower(), (name, r.json())
    assert peak < MEMORY, f"{name} allocated {peak / 2**20:.0f} MB"


def test_a_hostile_live_message_gets_an_error_and_the_socket_stays_open(client):
    run = client.post("/api/runs", json={"hidden": [8], "epochs": 1, "train_subset": 200,
                                         "validation_size": 0}).json()
    with client.websocket_connect(f"/api/runs/{run['id']}/live") as ws:
        assert ws.receive_json()["type"] == "status"
        for bad in ["[" * 100_000, json.dumps({"type": "draw", "pixels": [0.5] * 785}), "null",
                    json.dumps({"type": "draw", "image": "data:image/png;base64,aGVsbG8="})]:
            ws.send_text(bad)
            message = ws.receive_json()
            while message["type"] != "error":
                message = ws.receive_json()
            assert message["message"], bad[:40]
        ws.send_json({"type": "draw", "pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464})
        while ws.receive_json()["type"] != "activations":
            pass
    client.post(f"/api/runs/{run['id']}/stop")
