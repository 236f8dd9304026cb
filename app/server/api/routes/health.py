"""GET /api/health: is the server up, and how much does it hold."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.server.schemas import Health
from app.server.storage import folder_problems

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=Health)
async def health(request: Request) -> Health:
    # On the event loop, not in the thread pool: its work is a few quick system calls, and a pool
    # thread would wait for the GIL after each one while the loop serves a class (docs/performance.md).
    state = request.app.state
    store = state.runs.store
    problems = [*(folder_problems(store.state_dir) if store is not None else []), *state.runs.problems,
                *state.runs.bench.problems,
                *(store.problems if store is not None else []), *state.models.problems()]
    return Health(status="ok", runs=len(state.runs.list()), models=len(state.models.list()),
                  problems=list(dict.fromkeys(problems)))   # each once, in the order found
