"""422 answers that JSON can carry: FastAPI's field errors, with NaN and infinity spelled as strings."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _finite(value: object) -> object:
    """Return `value` with NaN and infinities spelled as strings (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 (`detail` lists each field's `loc` and `msg`), except that an input of NaN or
    infinity is echoed as a string: FastAPI's default handler fails to encode it and answers 500."""
    return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(exc.errors()))})
