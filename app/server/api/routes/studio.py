"""The studio's watched run: the teacher's choice, which every open page follows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from app.server.security import TEACHER_ERRORS, teacher

router = APIRouter(prefix="/api/studio", tags=["studio"])


class StudioIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    watched: str = Field(max_length=20, description="the run every page follows, e.g. r3")


class StudioOut(BaseModel):
    watched: str | None
    changed: str


@router.get("", response_model=StudioOut)
def read_studio(request: Request) -> dict[str, Any]:
    """Return the watched run and when it last changed."""
    return request.app.state.runs.studio()


@router.put("", response_model=StudioOut, dependencies=[Depends(teacher)],
            responses={**TEACHER_ERRORS, 404: {"description": "no such run"}})
def watch_run(request: Request, body: StudioIn) -> dict[str, Any]:
    """Make a run the watched one: every open page that follows the teacher switches to it."""
    try:
        return request.app.state.runs.watch(body.watched)
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from None
