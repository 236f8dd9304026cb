"""How large a request body may be, written once: the middleware enforces it before any handler reads."""

from __future__ import annotations

from app.imaging import MAX_BYTES

BODY_LIMIT = 64 * 1024                          # JSON for runs and saves is a few hundred bytes
IMAGE_BODY_LIMIT = MAX_BYTES * 4 // 3 + 64 * 1024   # a 5 MB image as base64 JSON or multipart, plus framing
IMAGE_PATHS = ("/api/predict", "/api/lessons")   # these take a drawing or a 5 MB image as base64


class BodyTooLargeError(Exception):
    """A body that did not declare its size went over the limit while it was being read."""


def limit_for(path: str, image_limit: int = IMAGE_BODY_LIMIT) -> int:
    """Return how many body bytes a request to `path` may send."""
    return image_limit if path.startswith(IMAGE_PATHS) else BODY_LIMIT


def too_large(limit: int) -> str:
    """Return the 413 message for a body over `limit` bytes."""
    if limit >= 2**20:
        return (f"the request is over {limit / 2**20:.1f} MB; images may be at most {MAX_BYTES // 2**20} MB "
                "(send a smaller file, or the 28x28 pixels)")
    return f"the request is over {limit // 1024} KB; run and model requests are small JSON objects"
