"""GET /api/run-config: every run config field's type, default and bounds, from app/training/config.py,
so the page never offers what the server refuses; and learning rates that suit each activation/cost."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.training.config import FIELDS, SUGGESTED

router = APIRouter(tags=["runs"])


@router.get("/api/run-config")
def run_config() -> dict[str, Any]:
    return {"fields": {name: spec.public() for name, spec in FIELDS.items()}, "suggested": SUGGESTED}
