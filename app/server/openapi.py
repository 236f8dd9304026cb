"""The OpenAPI schema, corrected where FastAPI's generated one does not say what the API answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def document_error_shapes(app: FastAPI) -> None:
    """Make the OpenAPI schema say what 422s really hold: FastAPI's list of field errors, or (for
    checks a schema cannot express, such as `model` and `run` together) one sentence."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if error is not None:
                detail = error["properties"]["detail"]
                error["properties"]["detail"] = {"title": "Detail", "anyOf": [
                    {k: v for k, v in detail.items() if k != "title"}, {"type": "string"}]}
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
