"""The live channel and SSE against a real uvicorn on a loopback port, with the default run training."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect

from app.nn.network import Network
from app.server.encode import activation_messages, activation_payloads, dumps
from app.server.live import Outbox
from tests.conftest import SEVEN, stroke_png
from tests.support.server import running_server
from tests.support.sse import sse_events
from tests.support.wait import DEADLINE, run_reaches

pytestmark = pytest.mark.slow


FIRST: dict = {}


@pytest.fixture(scope="module")
def server(small_model_dir) -> Iterator[str]:
    with running_server("--models-dir", str(small_model_dir), "--no-train") as url:
        # The moment the server answers, prediction must work (the shipped model is loaded at start).
        FIRST["response"] = httpx.post(f"{url}/api/predict", files={"file": ("7.png", stroke_png(SEVEN))},
                                       timeout=60)
        # The video's network, as the default run, but long enough to outlast these tests: the
        # default 30 epochs can be over in 15 s, and the tests below need a run that is learning.
        httpx.post(f"{url}/api/runs", json={"epochs": 500, "name": "default"}).raise_for_status()
        wait_training(url, "r1")
        yield url


def test_prediction_works_as_soon_as_the_server_answers(server):
    assert FIRST["response"].status_code == 200, FIRST["response"].text
    assert FIRST["response"].json()["model"]["name"] == "default"


def get_run(url: str, run_id: str) -> dict:
    return httpx.get(f"{url}/api/runs/{run_id}").json()


def wait_training(url: str, run_id: str) -> dict:
    return run_reaches(lambda i: get_run(url, i), run_id, lambda r: r["progress"]["step"] > 0)


def ws_url(url: str, run_id: str = "r1") -> str:
    return url.replace("http://", "ws://") + f"/api/runs/{run_id}/live"


async def collect(ws, until, timeout: float = DEADLINE) -> list[dict]:
    """Return the messages received until `until(messages so far)` holds (AssertionError if it does
    not within `timeout` seconds)."""
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    while not until(messages):
        left = deadline - time.monotonic()
        try:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), max(left, 0.001))))
        except TimeoutError:
            raise AssertionError(f"no end after {timeout:.0f} s; received {[m['type'] for m in messages]}") \
                from None
    return messages


def count(kind: str, n: int):
    """An `until` for collect(): at least n messages of this type."""
    return lambda messages: sum(m["type"] == kind for m in messages) >= n


def last_is(predicate):
    """An `until` for collect(): the newest message satisfies predicate."""
    return lambda messages: bool(messages) and predicate(messages[-1])


def test_stream_metrics_weights_and_activations(server):
    async def session():
        async with connect(ws_url(server)) as ws:
            first = await collect(ws, lambda ms: count("metrics", 5)(ms) and count("weights", 4)(ms))
            kinds = [m["type"] for m in first]
            assert kinds[0] == "status" and first[0]["run"]["id"] == "r1"
            metrics = [m for m in first if m["type"] == "metrics"]
            assert metrics[-1]["step"] > metrics[0]["step"] and metrics[-1]["examples_per_second"] > 0
            weights = [m for m in first if m["type"] == "weights"][-1]
            assert weights["neurons"] == list(range(16)) and weights["shape"] == [28, 28]
            q = np.frombuffer(base64.b64decode(weights["data"]), np.int8)
            assert q.size == 16 * 784 and np.abs(q).max() == 127 and weights["scale"] > 0

            # A drawing: answered at once, then again under newer weights.
            pixels = np.zeros((28, 28))
            pixels[4:24, 13:15] = 1.0  # a "1"
            await ws.send(json.dumps({"type": "draw", "pixels": pixels.ravel().tolist()}))
            after = await collect(ws, count("activations", 3))
            acts = [m for m in after if m["type"] == "activations"]
            assert acts[-1]["step"] > acts[0]["step"]
            assert [len(layer) for layer in acts[-1]["layers"]] == [16, 16, 10]
            assert acts[-1]["digit"] == int(np.argmax(acts[-1]["layers"][-1]))

            # A raw canvas image: the server preprocesses it and says what it saw.
            url = "data:image/png;base64," + base64.b64encode(stroke_png(SEVEN, paper=None)).decode()
            await ws.send(json.dumps({"type": "draw", "image": url}))
            seen = await collect(ws, last_is(lambda m: m["type"] == "activations" and m["input"]))
            assert np.array(seen[-1]["input"]).shape == (28, 28)

            # Choose neurons; clear the drawing; bad messages get an error, the stream goes on.
            await ws.send(json.dumps({"type": "neurons", "indices": [3, 5]}))
            chosen = await collect(ws, last_is(lambda m: m["type"] == "weights" and m["neurons"] == [3, 5]))
            q = np.frombuffer(base64.b64decode(chosen[-1]["data"]), np.int8)
            assert chosen[-1]["neurons"] == [3, 5] and q.size == 2 * 784
            await ws.send(json.dumps({"type": "draw", "pixels": None}))
            await ws.send(json.dumps({"type": "neurons", "indices": [99]}))
            await ws.send("not json")
            errors = await collect(ws, last_is(lambda m: m["type"] == "error" and "JSON" in m["message"]))
            messages = [m["message"] for m in errors if m["type"] == "error"]
            # The outbox keeps the newest message of each kind: the neurons error may be replaced.
            assert all("16 neurons" in m or "JSON" in m for m in messages), messages
            # Messages are handled in order: the clear came before the bad JSON's error.
            late = await collect(ws, count("metrics", 3))
            assert "activations" not in [m["type"] for m in late]  # cleared: no more activations
    asyncio.run(session())


def test_unknown_run_gets_an_error_and_close(server):
    async def session():
        async with connect(ws_url(server, "r404")) as ws:
            message = json.loads(await ws.recv())
            assert message["type"] == "error" and "r404" in message["message"]
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 4404
    asyncio.run(session())


def stalled_client(url: str, run_id: str) -> socket.socket:
    """Return a socket that completes the WebSocket handshake and then never reads a byte."""
    host, port = url.removeprefix("http://").split(":")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.sendall(f"GET /api/runs/{run_id}/live HTTP/1.1\r\n".encode()
              + b"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    return s


def test_clients_that_never_read_do_not_stall_training(server):
    """Ten clients that never read a byte: the run goes on training, and a well-behaved client still
    gets its stream. (How much they slow it down is for bench/bench_live_clients.py to measure, on a
    quiet machine; here only a stall would fail.)"""
    # A run of its own that outlasts the test (the default run may be over by now: it is fast).
    run_id = httpx.post(f"{server}/api/runs", json={"epochs": 500, "name": "stall test"}).json()["id"]
    try:
        wait_training(server, run_id)
        stalled = [stalled_client(server, run_id) for _ in range(10)]
        try:
            async def reader():  # a well-behaved client meanwhile: its stream goes on, steps go up
                async with connect(ws_url(server, run_id)) as ws:
                    first = (await collect(ws, count("metrics", 1)))[-1]["step"]
                    # 10 weights messages, at least 16 KB each, have been offered to every client:
                    # far more than the stalled ones' socket buffers (4 KB to read) take.
                    messages = await collect(ws, count("weights", 10))
                    return first, messages
            first, messages = asyncio.run(reader())
            at_the_end = get_run(server, run_id)["progress"]["step"]
        finally:
            for s in stalled:
                s.close()
    finally:
        httpx.post(f"{server}/api/runs/{run_id}/stop")
    steps = [m["step"] for m in messages if m["type"] == "metrics"]
    assert len(steps) >= 3 and steps == sorted(steps) and steps[-1] > first, steps
    assert at_the_end > first + 1000, (first, at_the_end)   # still training, far past where it was


def test_server_sent_events_follow_a_run(server):
    run_id = httpx.post(f"{server}/api/runs", json={"hidden": [8], "train_subset": 300, "epochs": 2,
                                                   "validation_size": 100}).json()["id"]
    with httpx.stream("GET", f"{server}/api/runs/{run_id}/events", timeout=60) as r:
        events = sse_events(r.iter_lines())
    assert events[0][0] == "status" and events[-1][1]["status"] == "finished"
    assert [d for e, d in events if e == "metrics"][-1]["final"] is True


def test_server_sent_events_of_a_finished_run_still_end_on_its_status(server):
    """Connecting after the run ended: status, the final metrics, then the status again to close."""
    run_id = httpx.post(f"{server}/api/runs", json={"hidden": [8], "train_subset": 300, "epochs": 1,
                                                   "validation_size": 100}).json()["id"]
    run_reaches(lambda i: get_run(server, i), run_id, lambda r: r["status"] == "finished")
    with httpx.stream("GET", f"{server}/api/runs/{run_id}/events", timeout=60) as r:
        frames = [event for event, _ in sse_events(r.iter_lines())]
    assert frames == ["status", "metrics", "status"], frames


def test_predict_with_live_weights_over_http(server):
    upload = {"file": ("7.png", stroke_png(SEVEN), "image/png")}
    r = httpx.post(f"{server}/api/predict?run=r1", files=upload)
    model = {k: r.json()["model"][k] for k in ("name", "kind", "sizes", "activation", "cost")}
    assert r.status_code == 200 and model == {
        "name": "r1", "kind": "run", "sizes": [784, 16, 16, 10], "activation": "sigmoid", "cost": "quadratic"}


def test_an_outbox_keeps_only_the_newest_message_of_each_kind():
    """What bounds a stalled client's memory: whatever it misses is replaced, never queued."""
    async def fill():
        box = Outbox()
        for i in range(10_000):
            for kind in ("metrics", "weights", "activations"):
                box.put(kind, f"{kind} {i}")
        box.put("status", "status 1")
        assert len(box.pending) == 4 and box.ready.is_set()
        assert box.take() == ["status 1", "metrics 9999", "weights 9999", "activations 9999"]
        assert box.pending == {} and not box.ready.is_set()
    asyncio.run(fill())


@pytest.mark.parametrize("sizes, activation, cost", [
    ([784, 16, 16, 10], "sigmoid", "quadratic"), ([784, 32, 10], "relu", "cross_entropy")])
def test_the_class_at_a_time_activations_are_the_readable_ones_text_for_text(sizes, activation, cost):
    """activation_messages (the live feed's fast path) says exactly what dumps(activation_payloads(...))
    says, for lively and untrained (flat) networks, and refuses an overflowing (NaN) one alike."""
    rng = np.random.default_rng(3)
    drawings = rng.random((40, 784)).astype(np.float32)
    drawings[rng.random(40) < 0.3] = 0.0                                # some blank
    lively = Network(sizes, activation, cost, seed=1)
    flat = Network(sizes, activation, cost, seed=1)
    for W in flat.W:
        W[:] = 0.0
    broken = Network(sizes, activation, cost, seed=1)
    broken.W[-1][0, 0] = np.nan
    for net in (lively, flat):
        expected = [dumps(m) for m in activation_payloads(net, 7, drawings)]
        assert activation_messages(net, 7, drawings) == expected
    for make in (lambda: [dumps(m) for m in activation_payloads(broken, 7, drawings)],
                 lambda: activation_messages(broken, 7, drawings)):
        with pytest.raises(ValueError, match="JSON"):   # NaN has no JSON: both refuse alike
            make()
    notes = [json.loads(t).get("note") for t in activation_messages(flat, 7, drawings)]
    assert all(n and "untrained" in n for n in notes)
