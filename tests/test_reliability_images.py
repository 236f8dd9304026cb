"""One heavy image must not stall everyone: images are decoded off the event loop, in a bounded pool,
decided by their pixel count; drawings have a pixel cap of their own."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import websockets
from PIL import Image, ImageDraw

from app.imaging import DRAWING_MAX_PIXELS
from app.server import decoding
from tests.support.studio import request, studio
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow
POSTERS, HEALTH_SAMPLES = 4, 20
TINY_RUN = {"hidden": [8], "epochs": 1, "train_subset": 200, "validation_size": 0, "batch_size": 50}


def worst_image(side: int = 4096) -> bytes:
    """Return the slowest image to decode within the limits: 4096x4096 16-bit greyscale PNG of a
    seven (~140 KB: flat paper compresses to almost nothing, decoding still touches 16.7 M pixels)."""
    image = Image.new("L", (side, side), 255)
    seven = [(side * 0.25, side * 0.17), (side * 0.73, side * 0.17), (side * 0.4, side * 0.83)]
    ImageDraw.Draw(image).line(seven, fill=0, width=side // 16)
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image).astype(np.uint16) * 257).save(buf, "PNG")
    return buf.getvalue()


def multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "reliability-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def health_while(url: str, clients: list[Callable[[], object]], answers: list[list],
                 stop: threading.Event) -> int:
    """Run each client on a thread of its own; once every one has answers, ask for health
    HEALTH_SAMPLES times while they keep sending, then set `stop` and wait for them. Return how many
    health answers were 200."""
    threads = [threading.Thread(target=client) for client in clients]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: all(answers), bool, timeout=120, what="every client to get an answer")
        return sum(request(f"{url}/api/health", timeout=120)[0] == 200 for _ in range(HEALTH_SAMPLES))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)


def test_a_large_image_is_decoded_off_the_event_loop(monkeypatch):
    """While a large image is being decoded, the event loop goes on serving others. Decided by the
    order of events, not by a clock: the decode waits until the loop has served another coroutine,
    which it could never do if the decode held the loop (a watchdog ends that case, and it fails)."""
    served, loop_was_free = threading.Event(), []

    def slow_decode(data: bytes, keep_steps: bool, max_pixels: int = 0):
        loop_was_free.append(served.wait(timeout=60))   # False only if the watchdog ran out
        return np.zeros((28, 28), np.float32), None

    monkeypatch.setattr(decoding, "to_input", slow_decode)

    async def scene() -> None:
        decode = asyncio.create_task(decoding.image_input(worst_image(1024)))
        await asyncio.sleep(0)              # the decode starts (and, if inline, would block here)
        served.set()                        # another request's turn on the loop
        await decode

    asyncio.run(scene())
    assert loop_was_free == [True], "the decode held the event loop"


def test_health_answers_while_four_clients_post_the_worst_image(tmp_path: Path):
    """End to end: four clients posting the slowest image allowed all get answers (200, or 503 when
    the pool is full) and health keeps answering. How quickly is measured by bench/bench_decode_load.py."""
    body, content_type = multipart(worst_image())
    stop, answers = threading.Event(), [[] for _ in range(POSTERS)]

    def post_forever(url: str, mine: list) -> None:
        while not stop.is_set():
            status, _, reply = request(f"{url}/api/predict", "POST", body, {"Content-Type": content_type},
                                       timeout=120)
            mine.append((status, reply))

    with studio(tmp_path / "state", "--no-train") as server:
        posters = [partial(post_forever, server.url, mine) for mine in answers]
        healthy = health_while(server.url, posters, answers, stop)
    statuses = {status for mine in answers for status, _ in mine}
    assert all(answers), "every poster got answers"
    assert statuses <= {200, 503}, statuses
    assert 200 in statuses
    assert all(reply["digit"] == 7 for mine in answers for status, reply in mine if status == 200)
    assert healthy == HEALTH_SAMPLES


def png(side: int) -> bytes:
    image = Image.new("L", (side, side), 255)
    seven = [(side // 4, side // 5), (3 * side // 4, side // 5), (side // 2, side - side // 6)]
    ImageDraw.Draw(image).line(seven, fill=0, width=max(1, side // 14))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_a_drawing_has_a_pixel_cap_and_a_photo_keeps_its_own(client):
    big = png(2048)   # 4.2 megapixels: no canvas is that large, a photo may be
    photo = client.post("/api/predict", files={"file": ("photo.png", big, "image/png")})
    assert photo.status_code == 200 and photo.json()["digit"] == 7, photo.text
    run = client.post("/api/runs", json={"hidden": [8], "epochs": 1, "train_subset": 200,
                                         "validation_size": 0}).json()
    data_url = "data:image/png;base64," + base64.b64encode(big).decode()
    with client.websocket_connect(f"/api/runs/{run['id']}/live") as ws:
        ws.send_json({"type": "draw", "image": data_url})
        message = ws.receive_json()
        while message["type"] != "error":
            message = ws.receive_json()
        assert "megapixels" in message["message"] and "2.1" in message["message"], message
        canvas = "data:image/png;base64," + base64.b64encode(png(600)).decode()
        ws.send_json({"type": "draw", "image": canvas})
        while (message := ws.receive_json())["type"] != "activations":
            assert message["type"] != "error", message
    client.post(f"/api/runs/{run['id']}/stop")


def test_a_full_decoding_pool_answers_503_with_retry_after(client, monkeypatch):
    monkeypatch.setattr(decoding, "MAX_WAITING", 0)   # as if every slot were taken
    r = client.post("/api/predict", files={"file": ("photo.png", png(1024), "image/png")})
    assert r.status_code == 503 and r.headers["retry-after"] == "1", r.text
    assert "try again" in r.json()["detail"]
    small = client.post("/api/predict", files={"file": ("canvas.png", png(280), "image/png")})
    assert small.status_code == 200, "a canvas-sized image is decoded at once, without the pool"


def test_health_answers_while_four_live_clients_draw_the_worst_drawing(tmp_path: Path):
    """The same through the WebSocket `draw` message, with the largest drawing allowed: every
    drawing is answered and health keeps answering."""
    side = int(DRAWING_MAX_PIXELS ** 0.5)
    drawing = "data:image/png;base64," + base64.b64encode(worst_image(side)).decode()
    stop, answers = threading.Event(), [[] for _ in range(POSTERS)]

    async def draw_forever(url: str, mine: list) -> None:
        async with websockets.connect(url, max_size=2**24, open_timeout=60) as ws:
            while not stop.is_set():
                await ws.send(json.dumps({"type": "draw", "image": drawing}))
                while (kind := json.loads(await ws.recv())["type"]) not in ("activations", "error"):
                    pass
                mine.append(kind)

    with studio(tmp_path / "state", "--no-train") as server:
        _, _, run = request(f"{server.url}/api/runs", "POST", TINY_RUN)
        live = f"ws://127.0.0.1:{server.port}/api/runs/{run['id']}/live"
        wait_until(lambda: request(f"{server.url}/api/runs/{run['id']}")[2]["status"], "finished".__eq__,
                   timeout=120, what="the tiny run to finish")
        drawers = [partial(asyncio.run, draw_forever(live, mine)) for mine in answers]
        healthy = health_while(server.url, drawers, answers, stop)
    assert all(answers) and {kind for mine in answers for kind in mine} == {"activations"}
    assert healthy == HEALTH_SAMPLES
