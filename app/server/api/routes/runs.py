"""Training runs: create, list, inspect, pause/resume/stop, save as a model, delete, follow as SSE."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import StreamingResponse

from app.server.events import metrics_events
from app.server.runs import Run, RunStateError
from app.server.schemas import HistoryOut, ModelInfo, RunConfigIn, RunOut, SaveIn
from app.server.security import TEACHER_ERRORS, teacher
from app.training.config import TrainConfig

router = APIRouter(prefix="/api/runs", tags=["runs"])
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "the run's status does not allow this"},
                                             404: {"description": "no such run"}}
# Changing actions need the teacher token when one is in force (app/server/security.py).
TEACHER = [Depends(teacher)]
AUTH: dict[int | str, dict[str, Any]] = {**TEACHER_ERRORS,
                                         400: {"description": "the body is not valid JSON"},
                                         413: {"description": "the body is over 64 KB"}}


def get_run(request: Request, run_id: str) -> Run:
    try:
        return request.app.state.runs.get(run_id)
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from None


@router.post("", status_code=201, response_model=RunOut, dependencies=TEACHER, responses=AUTH)
def create_run(request: Request, body: RunConfigIn) -> dict[str, Any]:
    """Queue a training run (it starts at once if fewer than the allowed number are training)."""
    fields = body.model_dump(exclude={"name"})
    try:
        run = request.app.state.runs.create(TrainConfig(**fields), name=body.name)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return run.to_dict()


@router.get("", response_model=list[RunOut])
def list_runs(request: Request) -> list[dict[str, Any]]:
    return [run.to_dict() for run in request.app.state.runs.list()]


@router.get("/{run_id}", response_model=RunOut, responses=CONFLICT)
def read_run(request: Request, run_id: str) -> dict[str, Any]:
    return get_run(request, run_id).to_dict()


@router.get("/{run_id}/history", response_model=HistoryOut, responses=CONFLICT)
def read_history(request: Request, run_id: str) -> dict[str, Any]:
    """Return every metrics point so far (thinned to about 5000 for very long runs)."""
    return {"id": run_id, "points": get_run(request, run_id).history()}


def _control(request: Request, run_id: str, action: str) -> dict[str, Any]:
    get_run(request, run_id)
    try:
        return getattr(request.app.state.runs, action)(run_id).to_dict()
    except RunStateError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/{run_id}/pause", response_model=RunOut, responses={**CONFLICT, **AUTH}, dependencies=TEACHER)
def pause_run(request: Request, run_id: str) -> dict[str, Any]:
    return _control(request, run_id, "pause")


@router.post("/{run_id}/resume", response_model=RunOut, responses={**CONFLICT, **AUTH}, dependencies=TEACHER)
def resume_run(request: Request, run_id: str) -> dict[str, Any]:
    return _control(request, run_id, "resume")


@router.post("/{run_id}/stop", response_model=RunOut, responses={**CONFLICT, **AUTH}, dependencies=TEACHER)
def stop_run(request: Request, run_id: str) -> dict[str, Any]:
    return _control(request, run_id, "stop")


@router.post("/{run_id}/save", status_code=201, response_model=ModelInfo, responses={**CONFLICT, **AUTH},
             dependencies=TEACHER)
def save_run(request: Request, run_id: str, body: SaveIn) -> dict[str, Any]:
    """Save the run's latest weights as a model that /api/predict?model=NAME can use."""
    run = get_run(request, run_id)
    latest = run.latest
    if latest is None:
        raise HTTPException(409, f"run {run_id} has no weights yet ({run.status}); save it once it trains")
    meta = {"name": body.name, "config": run.config.to_dict(), "run": run.id, "epochs_trained": latest.epoch,
            "test_accuracy": latest.test_accuracy, "test_cost": latest.test_cost,
            "val_accuracy": latest.val_accuracy, "created": _now()}
    try:
        model = request.app.state.models.save(body.name, latest.snapshot, meta)
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return model.info()


@router.delete("/{run_id}", status_code=204, response_class=Response, dependencies=TEACHER,
               responses={**CONFLICT, **TEACHER_ERRORS})
def delete_run(request: Request, run_id: str) -> Response:
    """Delete an ended run: its history, its checkpoint and its place in the list (for good). Models
    saved from it stay. A queued, running or paused run is 409: stop it first."""
    get_run(request, run_id)
    try:
        request.app.state.runs.delete(run_id)
    except KeyError as exc:   # deleted by someone else a moment ago
        raise HTTPException(404, exc.args[0]) from None
    except RunStateError as exc:
        raise HTTPException(409, str(exc)) from None
    return Response(status_code=204)


@router.get("/{run_id}/events", responses={**CONFLICT, 200: {"content": {"text/event-stream": {}}}})
def follow_run(request: Request, run_id: str) -> StreamingResponse:
    """Server-Sent Events: `metrics` while the run trains, `status` on changes; ends with the run."""
    run = get_run(request, run_id)
    return StreamingResponse(metrics_events(request, run), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
