"""The shipped and saved models predict can use: list them; delete a saved one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response

from app.server.api.routes.runs import TEACHER
from app.server.models import NAME_RE, NAME_RULE, ShippedModelError, UnknownModelError
from app.server.schemas import ModelInfo
from app.server.security import TEACHER_ERRORS

router = APIRouter(tags=["models"])
# The name is checked against the same rule as saving (the path pattern is NAME_RE, so no '..' or '/').
ModelName = Annotated[str, Path(pattern=NAME_RE.pattern, max_length=40, description=NAME_RULE)]


@router.get("/api/models", response_model=list[ModelInfo])
def list_models(request: Request) -> list[dict]:
    return [model.info() for model in request.app.state.models.list()]


@router.delete("/api/models/{name}", status_code=204, response_class=Response, dependencies=TEACHER,
               responses={**TEACHER_ERRORS, 404: {"description": "no saved model of that name"},
                          409: {"description": "a shipped model: it cannot be deleted"}})
def delete_model(request: Request, name: ModelName) -> Response:
    """Delete a model saved from a run (its file and registry entry, for good). Shipped models stay."""
    try:
        request.app.state.models.delete(name)
    except UnknownModelError as exc:
        raise HTTPException(404, str(exc)) from None
    except ShippedModelError as exc:
        raise HTTPException(409, str(exc)) from None
    return Response(status_code=204)
