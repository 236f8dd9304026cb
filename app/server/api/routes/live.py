"""WS /api/runs/{id}/live: metrics, weights, the network picture, this client's activations and the
studio's watched run, live."""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.imaging import DRAWING_MAX_PIXELS, EmptyDrawingError, ImageError, decode_data_url
from app.server.api.routes.predict import check_json_size, image_input, read_pixels
from app.server.encode import dumps, valid_neurons
from app.server.live import Client, studio_message
from app.server.runs import clean_metrics

router = APIRouter(tags=["live"])


@router.websocket("/api/runs/{run_id}/live")
async def live(websocket: WebSocket, run_id: str) -> None:
    state = websocket.app.state
    await websocket.accept()
    try:
        run = state.runs.get(run_id)
    except KeyError as exc:
        await websocket.send_text(dumps({"type": "error", "message": exc.args[0]}))
        await websocket.close(code=4404, reason=f"no run {run_id}"[:120])
        return
    client = Client(websocket, run)
    state.live.join(client)   # first: the feed's encodings of the newest weights serve this client too
    client.outbox.put("studio", studio_message(state.runs))
    client.outbox.put("status", dumps({"type": "status", "run": run.to_dict()}))
    if run.latest is not None:
        client.outbox.put("metrics", dumps({"type": "metrics", **clean_metrics(run.latest)}))
        client.weights_now()
    sender = asyncio.create_task(client.send_forever())
    receiver = asyncio.create_task(receive_forever(client))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        state.live.leave(client)
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError):
                await task


async def receive_forever(client: Client) -> None:
    """Handle the client's messages until it disconnects; bad ones get an `error` message back."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            text = await client.websocket.receive_text()
            try:
                await handle(client, text)
            except (ImageError, ValueError) as exc:
                client.outbox.put("error", dumps({"type": "error", "message": str(exc)}))


async def handle(client: Client, text: str) -> None:
    check_json_size(text)
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError('messages must be JSON objects such as {"type": "draw", "pixels": [...]}') from None
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "draw":
        await handle_draw(client, message)
    elif kind == "neurons":
        latest = client.run.latest
        client.neurons = valid_neurons(message.get("indices"), latest.snapshot if latest else None)
        client.weights_now()
    else:
        raise ValueError(f"unknown message type {kind!r}; expected 'draw' or 'neurons'")


async def handle_draw(client: Client, message: dict) -> None:
    """Set the client's drawing (an empty one clears it) and answer with activations at once."""
    seen = None  # the 28x28 made from a raw canvas, sent back so the page can show it
    try:
        if "pixels" in message:
            if message["pixels"] is None:
                client.drawing = None
                return
            x28 = read_pixels(message["pixels"])
        elif isinstance(message.get("image"), str):
            data = decode_data_url(message["image"])
            x28, _ = await image_input(data, False, DRAWING_MAX_PIXELS)
            seen = x28
        else:
            raise ValueError("a draw message needs 'pixels' (784 numbers in 0..1, or null) "
                             "or 'image' (a data URL)")
    except EmptyDrawingError:
        client.drawing = None
        return
    client.drawing = x28.reshape(784)
    client.answer_drawing(seen)
