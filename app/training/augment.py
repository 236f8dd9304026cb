"""Data augmentation: jitter each training image a little, as a different writer might have drawn it.

Users draw digits bigger, smaller, thicker, slanted and off-centre compared with MNIST's writers, so
the `best` recipe trains on randomly transformed copies: rotation, shear, scale, shift and stroke width.
Pure NumPy: one inverse affine map per image, sampled with bilinear interpolation.
"""

from __future__ import annotations

import numpy as np


def random_affine(images: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Return (n, 784) images warped by random affine maps about the image centre.

    At strength 1: rotation +-12 degrees, shear +-0.15, scale 0.85-1.12, shift +-2.5 px.
    """
    n = len(images)
    if n == 0 or strength <= 0:
        return images.copy()
    s = strength
    angle = np.deg2rad(rng.uniform(-12, 12, n) * s)
    shear = rng.uniform(-0.15, 0.15, n) * s
    scale = np.exp(rng.uniform(np.log(0.85), np.log(1.12), n) * s)
    aspect = np.exp(rng.uniform(-0.08, 0.08, n) * s)
    shift = rng.uniform(-2.5, 2.5, (n, 2)) * s
    cos, sin = np.cos(angle), np.sin(angle)
    # Forward map M = R(angle) @ Shear @ diag(scale*aspect, scale/aspect); we sample with its inverse.
    sx, sy = scale * aspect, scale / aspect
    m00, m01 = cos * sx, (cos * shear - sin) * sy
    m10, m11 = sin * sx, (sin * shear + cos) * sy
    det = m00 * m11 - m01 * m10
    i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
    coords = np.arange(28, dtype=np.float32) - 13.5
    gy, gx = np.meshgrid(coords, coords, indexing="ij")            # output pixel centres
    ox = gx[None] - shift[:, 0, None, None]
    oy = gy[None] - shift[:, 1, None, None]
    src_x = i00[:, None, None] * ox + i01[:, None, None] * oy + 13.5
    src_y = i10[:, None, None] * ox + i11[:, None, None] * oy + 13.5
    return _bilinear(images.reshape(n, 28, 28), src_x, src_y).reshape(n, 784)


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return img sampled at fractional (x, y) per image; outside the 28x28 field reads as 0."""
    n = img.shape[0]
    padded = np.zeros((n, 30, 30), dtype=np.float32)
    padded[:, 1:29, 1:29] = img
    x = np.clip(x + 1, 0, 28.999)
    y = np.clip(y + 1, 0, 28.999)
    x0, y0 = np.floor(x).astype(np.intp), np.floor(y).astype(np.intp)
    fx, fy = (x - x0).astype(np.float32), (y - y0).astype(np.float32)
    flat = padded.reshape(n, 900)
    base = (np.arange(n) * 900)[:, None, None]
    idx = base + y0 * 30 + x0
    f = flat.ravel()
    top = f[idx] * (1 - fx) + f[idx + 1] * fx
    bottom = f[idx + 30] * (1 - fx) + f[idx + 31] * fx
    return top * (1 - fy) + bottom * fy


def stroke_width(images: np.ndarray, rng: np.random.Generator, p: float = 0.3) -> np.ndarray:
    """Return images where a random fraction p is thickened (grey dilation) and p thinned (erosion)."""
    n = len(images)
    img = images.reshape(n, 28, 28)
    choice = rng.random(n)
    out = img.copy()
    thick, thin = choice < p, (choice >= p) & (choice < 2 * p)
    if thick.any() or thin.any():
        padded = np.pad(img, ((0, 0), (1, 1), (1, 1)))
        shifts = [padded[:, 1 + dy:29 + dy, 1 + dx:29 + dx] for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))]
        neighbours_max = np.maximum.reduce([img, *shifts])
        neighbours_min = np.minimum.reduce([img, *shifts])
        # A half-strength dilation: strokes widen by about half a pixel, not a full one.
        out[thick] = 0.5 * (img[thick] + neighbours_max[thick])
        out[thin] = 0.5 * (img[thin] + neighbours_min[thin])
    return out.reshape(n, 784)


def augment(images: np.ndarray, rng: np.random.Generator, strength: float = 1.0,
            chunk: int = 10_000) -> np.ndarray:
    """Return a jittered copy of (n, 784) images in [0, 1] (float32), processed in chunks."""
    out = np.empty_like(images, dtype=np.float32)
    for i in range(0, len(images), chunk):
        part = random_affine(images[i:i + chunk], rng, strength)
        part = stroke_width(part, rng, p=0.25 * min(strength, 1.0))
        out[i:i + chunk] = np.clip(part, 0.0, 1.0)
    return out
