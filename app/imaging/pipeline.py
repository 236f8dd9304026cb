"""MNIST-style preprocessing, as LeCun described the dataset.

grey levels (1 = ink; a photo's light is flattened first and only the digit's pieces kept, see
lighting.py) -> crop to the ink's bounding box -> scale the longer side to 20 px, keeping
the aspect ratio, anti-aliased -> paste into a 28x28 field so that the centre of mass of the ink
sits at the centre. (Measured on the MNIST training set: the mean centre of mass is at row 14.0,
column 14.0 in pixel-index coordinates, so that is where we put ours.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .decode import EmptyDrawingError, ImageError
from .lighting import is_flat, photo_ink

FIELD, BOX = 28, 20
CENTRE = 14.0
WORK_SIDE = 1024          # larger images are box-reduced first: the result is 20 px anyway
MIN_CONTRAST = 0.08       # ink must differ from the background by 8% of full scale
INK_LEVEL = 0.2           # what counts as ink when finding the bounding box
NOISE_LEVEL = 0.05        # below this, paper texture and JPEG noise are cleared to 0
STEP_SIDE = 64            # steps sent back for display are reduced to this size


@dataclass(frozen=True)
class Preprocessed:
    input: np.ndarray                         # (28, 28) float32 in 0..1, 1 = ink
    steps: dict[str, np.ndarray] | None = None


def preprocess(image: Image.Image, keep_steps: bool = False) -> Preprocessed:
    """Return the 28x28 MNIST-like input for a drawing or photo of one digit (and, if asked, the
    intermediate images, each 0..1). Raises ImageError (422) if there is no ink to see."""
    grey = working_grey(image)
    background = border_level(grey)
    if is_flat(grey, background):   # a drawing or a scan: one grey level is the paper everywhere
        levels = ink_levels(grey, background)
        cropped, seen = crop_to_ink(grey, levels), (levels[grey] if keep_steps else grey)
    else:                           # a photo: the paper's brightness changes across the sheet
        cropped, seen = photo_ink(grey, NOISE_LEVEL)
    scaled = scale_longer_side(cropped, BOX)
    centred = centre_of_mass_field(scaled)
    steps = None
    if keep_steps:
        steps = {"grey": _for_display(seen), "cropped": _for_display(cropped), "scaled": scaled,
                 "centred": centred}
    return Preprocessed(centred, steps)


def working_grey(image: Image.Image) -> np.ndarray:
    """Return the image's grey levels (h, w) uint8, any alpha composited, reduced to at most about
    WORK_SIDE px a side."""
    if max(image.size) > WORK_SIDE:
        image = image.convert("RGBA").reduce(-(-max(image.size) // WORK_SIDE))
    return np.asarray(_composite_grey(image))


def border_level(grey: np.ndarray) -> int:
    """Return the median grey level of the image's two-pixel border: a drawing's background."""
    border = np.concatenate([grey[:2].ravel(), grey[-2:].ravel(), grey[:, :2].ravel(), grey[:, -2:].ravel()])
    return int(np.median(border))


def ink_levels(grey: np.ndarray, background: int) -> np.ndarray:
    """Return a lookup table (256,) uint8 that maps a grey level to ink: 255 = full ink, 0 = background,
    whichever the ink polarity (the background is the border's level), with faint noise cleared.
    (A table, not a new image: only the ink's bounding box is ever looked up, which is cheaper.)"""
    values = np.arange(256, dtype=np.float64)
    if background >= 128:  # dark ink on a light background: read it as light on dark, like MNIST
        values, background = 255 - values, 255 - background
        peak = 255 - int(grey.min())
    else:
        peak = int(grey.max())
    contrast = peak - background
    if contrast < MIN_CONTRAST * 255:
        raise EmptyDrawingError()
    levels = np.clip((values - background) * (255.0 / contrast), 0, 255).round()
    levels[levels < NOISE_LEVEL * 255] = 0
    return levels.astype(np.uint8)


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


def crop_to_ink(grey: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Return the ink (float32 0..1) inside the smallest rectangle holding every pixel above INK_LEVEL."""
    # The table is monotonic (ink grows one way with the grey level), so "is ink" is one comparison.
    inky = np.flatnonzero(levels > INK_LEVEL * 255)
    if inky.size == 0:
        raise EmptyDrawingError()
    ink_mask = grey <= inky[-1] if levels[0] > levels[255] else grey >= inky[0]
    rows = np.flatnonzero(ink_mask.any(axis=1))
    if rows.size == 0:
        raise EmptyDrawingError()
    cols = np.flatnonzero(ink_mask[rows[0]:rows[-1] + 1].any(axis=0))
    box = grey[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return levels[box].astype(np.float32) * np.float32(1 / 255)


def scale_longer_side(crop: np.ndarray, side: int) -> np.ndarray:
    """Return crop resized (anti-aliased) so its longer side is `side`, keeping the aspect ratio,
    as float32 0..1; the strongest ink is brought back to 1, as thin pen strokes fade when shrunk."""
    h, w = crop.shape
    factor = side / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    # reducing_gap: box-reduce by a whole factor first, then Lanczos; same picture, a fraction of the time.
    image = Image.fromarray(np.ascontiguousarray(crop))
    scaled = np.asarray(image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0))
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


def _for_display(image: np.ndarray) -> np.ndarray:
    """Return image (uint8 0..255 or float 0..1) as float32 0..1, reduced (area-averaged) to at most
    STEP_SIDE px on its longer side."""
    image = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    h, w = image.shape
    if max(h, w) <= STEP_SIDE:
        return image
    factor = STEP_SIDE / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))
