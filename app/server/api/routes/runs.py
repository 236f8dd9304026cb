"""Training runs: create, list, inspect, pause/resume/stop, pace and step, save as a model, delete,
follow as SSE."""

from __future__ import annotations

import json
import math
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.server.encode import weights_message
from app.server.events import metrics_events
from app.server.runs import Run, RunStateError
from app.server.schemas import HistoryOut, ModelInfo, PaceIn, RunConfigIn, RunOut, SaveIn, StepIn, StepOut
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
# Runs waiting for a training slot, at most: each holds its config and, once it starts, its data, so
# an unbounded queue is unbounded memory and a wait nobody sees the end of.
MAX_QUEUED_RUNS = 8
QUEUE_RETRY_SECONDS = 30
CREATE: dict[int | str, dict[str, Any]] = {
    **AUTH, 422: {"description": "a field out of bounds, or a recipe that cannot train or costs too much"},
    429: {"description": "too many runs already queued; try again after Retry-After seconds"}}
# The queue's count and the creates that follow it, together: every way of creating runs holds this
# one lock (the lessons' runs too), so two creators cannot both pass the count.
create_lock = threading.Lock()


def queue_full(request: Request, adding: int = 1) -> None:
    """Raise 429 (with Retry-After) if `adding` more runs would make more than MAX_QUEUED_RUNS queued.
    Every way of creating runs calls this before creating them (the lessons' runs too)."""
    queued = sum(run.status == "queued" for run in request.app.state.runs.list())
    if queued + adding > MAX_QUEUED_RUNS:
        raise HTTPException(429, f"{queued} runs are already waiting for a training slot (at most "
                                 f"{MAX_QUEUED_RUNS} may wait); stop or delete a queued run, or try again "
                                 "once some have started", headers={"Retry-After": str(QUEUE_RETRY_SECONDS)})


def get_run(request: Request, run_id: str) -> Run:
    try:
        return request.app.state.runs.get(run_id)
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from None


@router.post("", status_code=201, response_model=RunOut, dependencies=TEACHER, responses=CREATE)
def create_run(request: Request, body: RunConfigIn) -> dict[str, Any]:
    """Queue a training run (it starts at once if fewer than the allowed number are training). A
    recipe that cannot train, or whose mini-batch costs too much, is 422; a full queue is 429."""
    config = TrainConfig(**body.model_dump(exclude={"name", "watch"}))
    try:
        config.validate()   # a bad recipe hears why before it hears that the queue is full
        with create_lock:
            queue_full(request)
            run = request.app.state.runs.create(config, name=body.name, watch=body.watch)
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


@router.post("/{run_id}/pace", response_model=RunOut, responses={**CONFLICT, **AUTH}, dependencies=TEACHER)
def pace_run(request: Request, run_id: str, body: PaceIn) -> dict[str, Any]:
    """Change how fast a queued, running or paused run trains: "full", "classroom" or examples/s."""
    get_run(request, run_id)
    try:
        return request.app.state.runs.set_pace(run_id, body.pace).to_dict()
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    except RunStateError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/{run_id}/step", response_model=StepOut, responses={**CONFLICT, **AUTH}, dependencies=TEACHER)
def step_run(request: Request, run_id: str, body: StepIn | None = None) -> dict[str, Any]:
    """Take exactly `steps` mini-batches of a paused run (it stays paused) and say what they changed."""
    get_run(request, run_id)
    steps = body.steps if body is not None else 1
    try:
        run, done = request.app.state.runs.step(run_id, steps)
    except RunStateError as exc:
        raise HTTPException(409, str(exc)) from None
    latest = run.latest
    assert latest is not None and done.w1_before is not None and done.w1_after is not None
    delta = latest.snapshot.copy()                 # a network whose first layer is the change
    delta.W[0][...] = done.w1_after - done.w1_before
    neurons = tuple(range(min(delta.sizes[1], 16)))
    return {"run": run.to_dict(), "steps": done.taken, "examples_seen_before": done.examples_seen_before,
            "examples_seen": latest.examples_seen, "batch_cost_before": _finite(done.batch_cost_before),
            "batch_cost_after": _finite(done.batch_cost_after),
            "delta": json.loads(weights_message(delta, latest.step, neurons))}


@router.post("/{run_id}/save", status_code=201, response_model=ModelInfo, responses={**CONFLICT, **AUTH},
             dependencies=TEACHER)
def save_run(request: Request, run_id: str, body: SaveIn,
             overwrite: bool = Query(False, description="replace a saved model of that name")
             ) -> dict[str, Any]:
    """Save the run's latest weights as a model that /api/predict?model=NAME can use.
    A name a saved model already has is 409 unless ?overwrite=true."""
    run = get_run(request, run_id)
    latest = run.latest
    if latest is None:
        raise HTTPException(409, f"run {run_id} has no weights yet ({run.status}); save it once it trains")
    meta = {"name": body.name, "config": run.config.to_dict(), "run": run.id, "epochs_trained": latest.epoch,
            "test_accuracy": latest.test_accuracy, "test_cost": latest.test_cost,
            "val_accuracy": latest.val_accuracy, "created": _now()}
    try:
        model = request.app.state.models.save(body.name, latest.snapshot, meta, overwrite=overwrite)
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


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
