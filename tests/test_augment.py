"""Augmentation on the real MNIST: what it promises (a faithful jitter, in [0, 1]) and that its fast
paths (blocks, two threads) give the textbook composition bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from app.training.augment import augment, random_affine, stroke_width
from app.training.mnist import load_mnist


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return load_mnist().train.images[:1_000]


def test_augment_is_the_composition_chunk_by_chunk(images):
    """clip(stroke_width(random_affine(chunk))) for each chunk, drawing from one rng in order; the
    chunk (450) is not a multiple of the block (200), so each chunk ends on a short block."""
    rng = np.random.default_rng(7)
    expected = np.concatenate([np.clip(stroke_width(random_affine(images[c:c + 450], rng), rng, 0.25), 0, 1)
                               for c in range(0, len(images), 450)])
    got = augment(images, np.random.default_rng(7), 1.0, chunk=450)
    assert got.dtype == np.float32 and got.tobytes() == expected.astype(np.float32).tobytes()


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_give_the_same_images_and_leave_the_rng_where_one_thread_does(images, threads):
    one_rng, many_rng = np.random.default_rng(8), np.random.default_rng(8)
    one = augment(images, one_rng, 1.0, chunk=300)
    many = augment(images, many_rng, 1.0, chunk=300, threads=threads)
    assert one.tobytes() == many.tobytes()
    assert one_rng.random() == many_rng.random()   # the next draws (the epoch's shuffle) agree too


def test_jittered_digits_stay_digits(images):
    out = augment(images, np.random.default_rng(9), 1.0)
    assert out.min() >= 0.0 and out.max() <= 1.0
    changed = np.abs(out - images).sum(axis=1) > 1.0
    assert changed.mean() > 0.95                      # almost every image moved
    ink = out.sum(axis=1) / images.sum(axis=1)
    assert 0.5 < np.median(ink) < 1.5                 # strokes kept: no blank or smeared images
    assert (ink > 0.3).all()


def test_strength_zero_is_a_clipped_copy(images):
    out = augment(images, np.random.default_rng(0), 0.0)
    assert out is not images and out.tobytes() == np.clip(images, 0, 1).astype(np.float32).tobytes()
