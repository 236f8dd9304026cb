"""Images to 28x28 inputs without stalling the server: the event loop only reads headers.

What decoding costs follows the pixel count, not the bytes (a 140 KB PNG can hold 16.7 M pixels and
take half a second). So a canvas-sized image (at most INLINE_PIXELS) is decoded right on the event
loop, where a hop to a thread would cost more than the work; anything larger goes to a small pool of
threads (Pillow and NumPy release the GIL while they work), and at most MAX_WAITING images may be in
there at once: beyond that the answer is 503 with Retry-After, rather than a queue that grows without end.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import ImageOps

from app.imaging import MAX_PIXELS, ImageError, open_image, peek, pixels, preprocess

INLINE_PIXELS = 320 * 320   # the page's 280x280 canvas and smaller
WORKERS = 2                 # the machine has few cores; more threads would only share them
MAX_WAITING = 8             # images in the pool, running or waiting

_pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="decode")
_lock = threading.Lock()
_in_pool = 0


class DecoderBusyError(ImageError):
    """Every decoding slot is taken; the client should try again in a moment."""

    def __init__(self) -> None:
        super().__init__(f"the server is decoding {MAX_WAITING} large images already; try again in a moment "
                         "(or send a smaller image)", 503)


async def image_input(data: bytes, keep_steps: bool = False,
                      max_pixels: int = MAX_PIXELS) -> tuple[Any, dict | None]:
    """Return (28x28 input, preprocessing steps or None) for image bytes; raise ImageError (with
    status 503 if the pool is full)."""
    global _in_pool
    if pixels(peek(data, max_pixels)) <= INLINE_PIXELS:
        return to_input(data, keep_steps, max_pixels)
    with _lock:
        if _in_pool >= MAX_WAITING:
            raise DecoderBusyError
        _in_pool += 1
    future = _pool.submit(to_input, data, keep_steps, max_pixels)
    future.add_done_callback(_leave)   # when the work ends, even if the client has gone away
    return await asyncio.wrap_future(future)


def _leave(_: object) -> None:
    global _in_pool
    with _lock:
        _in_pool -= 1


def to_input(data: bytes, keep_steps: bool, max_pixels: int = MAX_PIXELS) -> tuple[Any, dict | None]:
    """Return (28x28 input, steps): decode and preprocess, the slow part (any thread)."""
    # A phone photo is often stored sideways with an EXIF Orientation tag: turn it the way it is seen.
    result = preprocess(ImageOps.exif_transpose(open_image(data, max_pixels)), keep_steps)
    return result.input, result.steps
