"""GET /api/models: the shipped and saved models predict can use."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.server.schemas import ModelInfo

router = APIRouter(tags=["models"])


@router.get("/api/models", response_model=list[ModelInfo])
def list_models(request: Request) -> list[dict]:
    return [model.info() for model in request.app.state.models.list()]
