"""MNIST-style preprocessing: polarity, alpha, crop, 20-px scaling with aspect kept, centre of mass."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.imaging import EmptyDrawingError, ImageError, open_image, pixels_to_input, preprocess
from app.imaging.lighting import is_flat
from app.imaging.pipeline import border_level, working_grey
from tests.conftest import ONE, SEVEN, centre_of_mass, stroke_png
from tests.support.drawn import drawn_set
from tests.support.photos import photo_set


def prep(data: bytes, steps: bool = False):
    return preprocess(open_image(data), keep_steps=steps)


def test_result_is_mnist_like():
    x = prep(stroke_png(SEVEN)).input
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == pytest.approx(1.0)
    rows, cols = np.flatnonzero(x.any(1)), np.flatnonzero(x.any(0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (20, 21)  # longer side 20 (+ rounding)
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5                  # where MNIST puts it


def test_small_off_centre_digit_is_found_scaled_and_centred():
    corner = [(x / 5 + 10, y / 5 + 10) for x, y in SEVEN]  # a 7 of ~40 px in the top-left corner
    x_small = prep(stroke_png(corner, width=4)).input
    x_big = prep(stroke_png(SEVEN)).input
    cy, cx = centre_of_mass(x_small)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert np.corrcoef(x_small.ravel(), x_big.ravel())[0, 1] > 0.7


def test_aspect_ratio_is_kept_for_a_one():
    steps = prep(stroke_png(ONE), steps=True).steps
    h, w = steps["scaled"].shape
    assert h == 20 and w <= 4  # a "1" stays a thin bar, not a square blob


@pytest.mark.parametrize("ink, paper", [(0, 255), (255, 0), (40, 200), (230, 30)])
def test_polarity_is_read_from_the_border(ink, paper):
    reference = prep(stroke_png(SEVEN)).input
    x = prep(stroke_png(SEVEN, ink=ink, paper=paper)).input
    assert np.abs(x - reference).max() < 0.05


@pytest.mark.parametrize("ink", [0, 255])
def test_alpha_is_composited_for_dark_and_light_ink(ink):
    reference = prep(stroke_png(SEVEN)).input
    x = prep(stroke_png(SEVEN, ink=ink, paper=None)).input
    assert np.abs(x - reference).max() < 0.05


def test_palette_gif_with_transparency():
    image = Image.open(io.BytesIO(stroke_png(SEVEN, paper=None))).convert("P")
    buf = io.BytesIO()
    image.save(buf, "GIF", transparency=0)
    assert centre_of_mass(prep(buf.getvalue()).input)[0] == pytest.approx(14, abs=0.5)


def test_large_photo_like_image_is_reduced_first():
    big = Image.open(io.BytesIO(stroke_png(SEVEN))).resize((4000, 4000))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    reference = prep(stroke_png(SEVEN)).input
    assert np.abs(prep(buf.getvalue()).input - reference).mean() < 0.03


def test_mnist_digits_survive_a_round_trip(mnist):
    """An MNIST digit blown up to a 280x280 canvas and preprocessed comes back close to itself."""
    correlations = []
    for i in range(20):
        original = mnist.test.images[i].reshape(28, 28)
        canvas = Image.fromarray((original * 255).astype(np.uint8))
        canvas = canvas.resize((280, 280), Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        canvas.save(buf, "PNG")
        again = prep(buf.getvalue()).input
        correlations.append(np.corrcoef(original.ravel(), again.ravel())[0, 1])
    # A one-pixel difference in where the centre of mass rounds to costs some correlation, no more.
    assert np.mean(correlations) > 0.95 and min(correlations) > 0.8, np.round(correlations, 3)


def test_steps_are_small_enough_to_send():
    steps = prep(stroke_png(SEVEN), steps=True).steps
    assert steps["grey"].shape == (64, 64) and max(steps["cropped"].shape) <= 64
    assert steps["centred"].shape == (28, 28)


@pytest.mark.parametrize("image", [Image.new("L", (50, 50), 255), Image.new("L", (50, 50), 0),
                                   Image.new("RGBA", (50, 50), (0, 0, 0, 0)), Image.new("L", (50, 50), 128)])
def test_blank_images_are_empty_drawings(image):
    with pytest.raises(EmptyDrawingError, match="empty"):
        preprocess(image)


def test_faint_noise_is_not_a_digit():
    rng = np.random.default_rng(0)
    noisy = Image.fromarray((240 + rng.integers(0, 10, (100, 100))).astype(np.uint8))
    with pytest.raises(EmptyDrawingError):
        preprocess(noisy)


@pytest.mark.parametrize("pixels, words", [([0.5] * 10, "shape"), ([[0.5] * 28] * 28 + [[0.1] * 28], "shape"),
                                           ([float("nan")] * 784, "NaN"), ([1.5] * 784, "0..1"),
                                           ([None] * 784, "null"), ([0.0] * 784, "empty")])
def test_pixels_are_validated(pixels, words):
    with pytest.raises(ImageError, match=words):
        pixels_to_input(pixels)


def test_drawings_keep_the_drawing_path():
    """A drawing's background is one grey level, so drawings are read exactly as before the photo path
    existed; a photo's is not (its light changes across the sheet)."""
    for _, png in drawn_set(25, seed=2026):
        grey = working_grey(open_image(png))
        assert is_flat(grey, border_level(grey))
    for _, clean, photo in photo_set(2, seed=3):
        grey = working_grey(open_image(photo))
        assert not is_flat(grey, border_level(grey))
        grey = working_grey(open_image(clean))
        assert is_flat(grey, border_level(grey))


def test_a_shadow_across_a_drawing_is_flattened_away():
    """A 7 on paper with a dark band across it and light falling off to one side: the same input as
    the clean 7, not the band."""
    clean = np.asarray(Image.open(io.BytesIO(stroke_png(SEVEN, width=10))), np.float32)
    yy, xx = np.mgrid[0:280, 0:280]
    light = (1 - 0.4 * xx / 280) * np.where(np.abs(xx + yy - 300) < 50, 0.55, 1.0)
    light = np.asarray(Image.fromarray(light.astype(np.float32)).resize((140, 140)).resize((280, 280)))
    shaded = Image.fromarray(np.clip(clean * 0.9 * light + 10, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    shaded.save(buf, "JPEG", quality=85)
    x, reference = prep(buf.getvalue()).input, prep(stroke_png(SEVEN, width=10)).input
    assert np.corrcoef(x.ravel(), reference.ravel())[0, 1] > 0.9
