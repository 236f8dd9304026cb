"""MNIST-style preprocessing, as LeCun described the dataset.

grey levels (1 = ink) -> crop to the ink's bounding box -> scale the longer side to 20 px, keeping
the aspect ratio, anti-aliased -> paste into a 28x28 field so that the centre of mass of the ink
sits at the centre. (Measured on the MNIST training set: the mean centre of mass is at row 14.0,
column 14.0 in pixel-index coordinates, so that is where we put ours.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from .decode import EmptyDrawingError, ImageError

FIELD, BOX = 28, 20
CENTRE = 14.0
WORK_SIDE = 1024          # larger images are box-reduced first: the result is 20 px anyway
MIN_CONTRAST = 0.08       # ink must differ from the background by 8% of full scale
INK_LEVEL = 0.2           # what counts as ink when finding the bounding box
NOISE_LEVEL = 0.05        # below this, paper texture and JPEG noise are cleared to 0
STEP_SIDE = 64            # steps sent back for display are reduced to this size
_INK_LUT = bytes(255 if v > INK_LEVEL * 255 else 0 for v in range(256))


@dataclass(frozen=True)
class Preprocessed:
    input: np.ndarray                         # (28, 28) float32 in 0..1, 1 = ink
    steps: dict[str, np.ndarray] | None = None


def preprocess(image: Image.Image, keep_steps: bool = False) -> Preprocessed:
    """Return the 28x28 MNIST-like input for a drawing or photo of one digit (and, if asked, the
    intermediate images, each 0..1). Raises ImageError (422) if there is no ink to see."""
    ink = ink_image(image)
    cropped = crop_to_ink(ink)
    scaled = scale_longer_side(cropped, BOX)
    centred = centre_of_mass_field(scaled)
    steps = None
    if keep_steps:
        steps = {"grey": _for_display(ink), "cropped": _for_display(cropped), "scaled": scaled,
                 "centred": centred}
    return Preprocessed(centred, steps)


def ink_image(image: Image.Image) -> Image.Image:
    """Return a grey image (mode L) where 255 = full ink and 0 = background, whichever the ink
    polarity and with any alpha composited. The background level is read from the image border.
    The work stays in Pillow (C) at full size; NumPy only sees the small border strips."""
    if max(image.size) > WORK_SIDE:
        image = image.convert("RGBA").reduce(-(-max(image.size) // WORK_SIDE))
    grey = _composite_grey(image)
    a = np.asarray(grey)
    border = np.concatenate([a[:2].ravel(), a[-2:].ravel(), a[:, :2].ravel(), a[:, -2:].ravel()])
    background = int(np.median(border))
    if background >= 128:  # dark ink on a light background: turn it into light on dark, like MNIST
        grey, background = ImageOps.invert(grey), 255 - background
    peak = int(np.asarray(grey).max())
    contrast = peak - background
    if contrast < MIN_CONTRAST * 255:
        raise EmptyDrawingError()
    # One lookup table: remove the background, stretch the ink to full scale, clear faint noise.
    levels = np.clip((np.arange(256) - background) * (255.0 / contrast), 0, 255).round()
    levels[levels < NOISE_LEVEL * 255] = 0
    return grey.point(levels.astype(np.uint8).tobytes(), "L")


def _composite_grey(image: Image.Image) -> Image.Image:
    """Return the image as grey levels (mode L). Transparent pixels take the colour that contrasts
    with the opaque ones, so dark strokes on a transparent canvas and light ones both stay visible."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return image.convert("L")
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:
        return rgba.convert("L")
    lum = rgba.convert("L")
    opaque = np.asarray(alpha) > 127
    ink_is_dark = not opaque.any() or float(np.asarray(lum)[opaque].mean()) < 128
    background = Image.new("L", rgba.size, 255 if ink_is_dark else 0)
    return Image.composite(lum, background, alpha)


def crop_to_ink(ink: Image.Image) -> Image.Image:
    """Return the smallest rectangle holding every pixel above INK_LEVEL."""
    box = ink.point(_INK_LUT, "L").getbbox()
    if box is None:
        raise EmptyDrawingError()
    return ink.crop(box)


def scale_longer_side(crop: Image.Image, side: int) -> np.ndarray:
    """Return crop resized (anti-aliased) so its longer side is `side`, keeping the aspect ratio,
    as float32 0..1; the strongest ink is brought back to 1, as thin pen strokes fade when shrunk."""
    w, h = crop.size
    factor = side / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    scaled = np.asarray(crop.convert("F").resize(size, Image.Resampling.LANCZOS))
    scaled = np.clip(scaled, 0.0, None)
    peak = float(scaled.max())
    if peak <= 0:
        raise EmptyDrawingError()
    return np.clip(scaled / peak, 0.0, 1.0).astype(np.float32)


def centre_of_mass_field(digit: np.ndarray) -> np.ndarray:
    """Return a 28x28 field with digit pasted so that its centre of mass is at (14, 14), to the
    nearest pixel, without letting any of it fall off the field."""
    h, w = digit.shape
    total = float(digit.sum())
    cy = float((digit.sum(axis=1) * np.arange(h)).sum()) / total
    cx = float((digit.sum(axis=0) * np.arange(w)).sum()) / total
    top = min(max(round(CENTRE - cy), 0), FIELD - h)
    left = min(max(round(CENTRE - cx), 0), FIELD - w)
    field = np.zeros((FIELD, FIELD), np.float32)
    field[top:top + h, left:left + w] = digit
    return field


def pixels_to_input(pixels: object) -> np.ndarray:
    """Return a (28, 28) float32 from 28x28 nested or 784 flat numbers in 0..1 (1 = ink), already
    MNIST-like, or raise ImageError (422) saying what is wrong."""
    try:
        array = np.asarray(pixels, dtype=np.float64)
    except (ValueError, TypeError):
        raise ImageError("'pixels' must be 784 numbers, or 28 rows of 28 numbers, each in 0..1") from None
    if array.shape not in ((784,), (28, 28)):
        raise ImageError(f"'pixels' has shape {list(array.shape)}; expected 784 numbers or 28 rows of 28")
    if not np.all(np.isfinite(array)):
        raise ImageError("'pixels' contains NaN, infinity or null; every value must be a number in 0..1")
    if array.min() < 0 or array.max() > 1:
        raise ImageError(f"'pixels' values must be in 0..1 (1 = ink); got {array.min():g} to {array.max():g}")
    if array.max() == 0:
        raise EmptyDrawingError()
    return array.reshape(28, 28).astype(np.float32)


def _for_display(image: Image.Image) -> np.ndarray:
    """Return image (mode L) as 0..1, reduced (area-averaged) to at most STEP_SIDE px on its longer side."""
    if max(image.size) > STEP_SIDE:
        image = image.copy()
        image.thumbnail((STEP_SIDE, STEP_SIDE), Image.Resampling.BOX)
    return np.asarray(image, dtype=np.float32) / 255.0
