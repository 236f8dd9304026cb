"""Data augmentation: jitter each training image a little, as a different writer might have drawn it.

Users draw digits bigger, smaller, thicker, slanted and off-centre compared with MNIST's writers, so
the `best` recipe trains on randomly transformed copies: rotation, shear, scale, shift and stroke width.
Pure NumPy: one inverse affine map per image, sampled with bilinear interpolation.
"""

from __future__ import annotations

import threading

import numpy as np

BLOCK = 200  # images warped at a time: small temporaries stay in cache and cause no page faults

_COORDS = np.arange(28, dtype=np.float32) - 13.5
_GY, _GX = np.meshgrid(_COORDS, _COORDS, indexing="ij")  # output pixel centres


def random_affine(images: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Return (n, 784) images warped by random affine maps about the image centre.

    At strength 1: rotation +-12 degrees, shear +-0.15, scale 0.85-1.12, shift +-2.5 px.
    """
    if len(images) == 0 or strength <= 0:
        return images.copy()
    inverse, shift = _affine_maps(len(images), rng, strength)
    out = np.empty((len(images), 784), dtype=np.float32)
    for i in range(0, len(images), BLOCK):
        out[i:i + BLOCK] = _warp(images[i:i + BLOCK], inverse[i:i + BLOCK], shift[i:i + BLOCK])
    return out


def _affine_maps(n: int, rng: np.random.Generator, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Return n random inverse maps (n, 4: i00, i01, i10, i11) and shifts (n, 2) at strength s."""
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
    return np.stack([m11 / det, -m01 / det, -m10 / det, m00 / det], axis=1), shift


def _warp(images: np.ndarray, inverse: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Return (n, 784) images sampled through the inverse maps (n, 4) after removing the shifts (n, 2)."""
    n = len(images)
    i00, i01, i10, i11 = (inverse[:, k, None, None] for k in range(4))
    ox = _GX[None] - shift[:, 0, None, None]
    oy = _GY[None] - shift[:, 1, None, None]
    # The same float64 arithmetic, in the same order, as the textbook expression, with fewer temporaries.
    src_x = i00 * ox
    src_x += i01 * oy
    src_x += 13.5
    src_y = np.multiply(i10, ox, out=ox)
    src_y += i11 * oy
    src_y += 13.5
    return _bilinear(images.reshape(n, 28, 28), src_x, src_y).reshape(n, 784)


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return img sampled at fractional (x, y) per image; outside the 28x28 field reads as 0."""
    n = img.shape[0]
    x += 1
    y += 1
    np.clip(x, 0, 28.999, out=x)
    np.clip(y, 0, 28.999, out=y)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0).astype(np.float32), (y - y0).astype(np.float32)
    idx = y0.astype(np.intp)
    idx *= 30
    idx += x0.astype(np.intp)
    idx += (np.arange(n) * 900)[:, None, None]
    # Each pixel's 2x2 neighbourhood as one 16-byte record, so a single gather fetches all four.
    f = np.zeros(n * 900 + 31, dtype=np.float32)   # the images with a zero border, flat
    f[:n * 900].reshape(n, 30, 30)[:, 1:29, 1:29] = img
    quad = np.empty((n * 900, 4), dtype=np.float32)
    quad[:, 0], quad[:, 1], quad[:, 2], quad[:, 3] = f[:-31], f[1:-30], f[30:-1], f[31:]
    q = np.take(quad.view(np.complex128).ravel(), idx).view(np.float32).reshape(*idx.shape, 4)
    top = q[..., 0] * (1 - fx) + q[..., 1] * fx
    bottom = q[..., 2] * (1 - fx) + q[..., 3] * fx
    return top * (1 - fy) + bottom * fy


def stroke_width(images: np.ndarray, rng: np.random.Generator, p: float = 0.3) -> np.ndarray:
    """Return images where a random fraction p is thickened (grey dilation) and p thinned (erosion)."""
    return _stroke(images, rng.random(len(images)), p)


def _stroke(images: np.ndarray, choice: np.ndarray, p: float) -> np.ndarray:
    """Return (n, 784) images thickened where choice < p, thinned where p <= choice < 2p."""
    n = len(images)
    img = images.reshape(n, 28, 28)
    out = img.copy()
    thick, thin = choice < p, (choice >= p) & (choice < 2 * p)
    if thick.any():
        # A half-strength dilation: strokes widen by about half a pixel, not a full one.
        out[thick] = 0.5 * (img[thick] + _neighbourhood(img[thick], np.maximum))
    if thin.any():
        out[thin] = 0.5 * (img[thin] + _neighbourhood(img[thin], np.minimum))
    return out.reshape(n, 784)


def _neighbourhood(img: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """Return the max (or min) of each pixel and its four neighbours, zero beyond the border."""
    padded = np.pad(img, ((0, 0), (1, 1), (1, 1)))
    result = img.copy()
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        reduce(result, padded[:, 1 + dy:29 + dy, 1 + dx:29 + dx], out=result)
    return result


def augment(images: np.ndarray, rng: np.random.Generator, strength: float = 1.0,
            chunk: int = 10_000, threads: int = 1) -> np.ndarray:
    """Return a jittered copy of (n, 784) images in [0, 1] (float32), processed in chunks.

    Equal, bit for bit, to clip(stroke_width(random_affine(chunk))) chunk by chunk with the same rng;
    the work runs in blocks of BLOCK images because big temporaries cost page faults (see
    docs/performance.md, "Augmentation"). With threads > 1 the blocks are shared out among threads
    (NumPy releases the GIL while it works): the random numbers are all drawn first, in the same
    order, so the result is the same, bit for bit.
    """
    out = np.empty_like(images, dtype=np.float32)
    if strength <= 0:
        out[...] = np.clip(images, 0.0, 1.0)
        return out
    p = 0.25 * min(strength, 1.0)
    blocks = []   # (first image, inverse maps, shifts, stroke choices) of each block
    for c in range(0, len(images), chunk):
        n = len(images[c:c + chunk])
        inverse, shift = _affine_maps(n, rng, strength)
        choice = rng.random(n)
        blocks += [(c + i, inverse[i:i + BLOCK], shift[i:i + BLOCK], choice[i:i + BLOCK])
                   for i in range(0, n, BLOCK)]

    def work(share: list) -> None:
        for first, inverse, shift, choice in share:
            part = images[first:first + len(choice)]
            block = _stroke(_warp(part, inverse, shift), choice, p)
            np.clip(block, 0.0, 1.0, out=out[first:first + len(block)])

    threads = max(1, min(threads, len(blocks)))
    errors: list[BaseException] = []

    def helper_work(share: list) -> None:
        try:
            work(share)
        except BaseException as exc:  # raised in the caller's thread below
            errors.append(exc)

    helpers = [threading.Thread(target=helper_work, args=(blocks[k::threads],), name=f"augment-{k}",
                                daemon=True) for k in range(1, threads)]
    for helper in helpers:
        helper.start()
    try:
        work(blocks[0::threads])
    finally:
        for helper in helpers:
            helper.join()
    if errors:
        raise errors[0]
    return out
