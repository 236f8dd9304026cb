"""Inputs that are not digits, and how sure the network is about them anyway.

A network trained only on digits has never been rewarded for saying "I don't know": every training
example had a right answer. So random noise and even a blank page still light up some output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.nn.network import Network

KINDS = ("uniform", "gaussian", "salt", "blank")


def noise_images(kind: str, n: int, seed: int, density: float = 0.2) -> np.ndarray:
    """Return n images (n, 784) float32 in 0..1 of the given kind:
    uniform (every pixel uniform in 0..1), gaussian (grey 0.5 +- 0.25, clipped), salt (a `density`
    fraction of pixels fully inked), blank (all zero, a clean page). Raises ValueError otherwise."""
    if kind not in KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; choose from {', '.join(KINDS)}")
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"density is a fraction in 0..1 (got {density})")
    rng = np.random.default_rng(seed)
    shape = (n, 784)
    if kind == "uniform":
        images = rng.random(shape)
    elif kind == "gaussian":
        images = np.clip(rng.normal(0.5, 0.25, shape), 0.0, 1.0)
    elif kind == "salt":
        images = (rng.random(shape) < density).astype(np.float64)
    else:
        images = np.zeros(shape)
    return images.astype(np.float32)


@dataclass(frozen=True)
class Confidence:
    mean_top: float              # average of the largest output activation
    share_confident: float       # fraction of images whose largest activation is above `threshold`
    winners: list[int]           # how often each digit won, (10,)


def confidence(net: Network, images: np.ndarray, threshold: float = 0.5) -> Confidence:
    """Return how confidently the network answers for a batch of images (n, 784)."""
    a = net.predict(images)
    top = a.max(axis=1)
    winners = np.bincount(a.argmax(axis=1), minlength=net.sizes[-1])
    return Confidence(float(top.mean()), float((top > threshold).mean()), [int(c) for c in winners])
