"""Turn untrusted bytes (an upload or a data URL) into a Pillow image, safely.

Bounds are checked before any pixel is decoded: the byte size first, then the size the header
declares, so a small file that would decompress into gigabytes (a "decompression bomb") is refused.
What an image costs to decode follows its pixel count, not its bytes (a 140 KB PNG can hold 16.7 M
pixels), so callers read the header first (`peek`) and decide from `pixels` where to decode it.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE       # a photo
DRAWING_MAX_PIXELS = 2 * 1024 * 1024   # a canvas: 1448x1448 covers a phone's full width at 3.5x density
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
# Pillow's own guard: refuse anything larger than we would ever accept, even if a path skips our check.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE

_DATA_URL = re.compile(r"^data:image/([a-z0-9.+-]+)?(;[a-z0-9=-]+)*?;base64,", re.IGNORECASE)


class ImageError(ValueError):
    """The input cannot be used; `status` is the HTTP status that fits (400, 413, 415 or 422)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class EmptyDrawingError(ImageError):
    """There is no ink to read a digit from."""

    def __init__(self) -> None:
        super().__init__("the drawing is empty: draw a digit (or send an image with visible ink on a plain "
                         "background)", 422)


def decode_data_url(url: str) -> bytes:
    """Return the bytes of a base64 `data:image/...;base64,` URL, or raise ImageError."""
    match = _DATA_URL.match(url[:200])
    if match is None:
        raise ImageError("'image' must be a data URL such as 'data:image/png;base64,iVBOR...' "
                         "(for example from canvas.toDataURL())", 400)
    payload = url[match.end():]
    if len(payload) > (MAX_BYTES * 4) // 3 + 4:
        raise ImageError(f"the image is larger than {MAX_BYTES // 2**20} MB; send a smaller one", 413)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("the data URL's base64 part is not valid base64", 400) from None


def open_image(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Return the decoded image (fully loaded), or raise ImageError saying what is wrong with it."""
    image = peek(data, max_pixels)
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"the image file is damaged or truncated ({exc})", 400) from None
    return image


def pixels(image: Image.Image) -> int:
    """Return the image's pixel count: what decoding it costs, whatever its size in bytes."""
    return image.size[0] * image.size[1]


def peek(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Return the image with only its header read (cheap), after checking its bytes, its sides and its
    pixel count against the limits; raise ImageError saying what is wrong with it."""
    if not data:
        raise ImageError("the file is empty; send a PNG, JPEG, WebP, GIF or BMP image", 400)
    if len(data) > MAX_BYTES:
        raise ImageError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB", 413)
    try:
        with warnings.catch_warnings():  # the size is checked just below, with a clearer message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)  # reads the header only
    except UnidentifiedImageError:
        raise ImageError("cannot read this file as an image; send a PNG, JPEG, WebP, GIF or BMP",
                         415) from None
    except Image.DecompressionBombError:
        raise ImageError(f"the image is too large; the limit is {MAX_SIDE}x{MAX_SIDE} pixels", 413) from None
    except (OSError, ValueError) as exc:
        raise ImageError(f"cannot read this image ({exc})", 400) from None
    width, height = image.size
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageError(f"the image is {width}x{height} pixels; the limit is {MAX_SIDE}x{MAX_SIDE}", 413)
    if width < 1 or height < 1:
        raise ImageError("the image has no pixels", 400)
    if width * height > max_pixels:
        raise ImageError(f"the image is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels); "
                         f"a drawing may have at most {max_pixels / 1e6:.1f} megapixels (send a smaller "
                         "canvas, or the 28x28 pixels)", 413)
    return image
