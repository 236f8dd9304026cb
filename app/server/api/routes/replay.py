"""A run's network picture, what each neuron looks for, and its replay snapshots (docs/api.md)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from app.nn.network import Network
from app.server.encode import MAX_NEURONS, default_neurons, network_message, neuron_map, weights_message
from app.server.run import Run

from .runs import CONFLICT, get_run

router = APIRouter(prefix="/api/runs", tags=["runs"])
SNAPSHOT = Query(None, ge=0, description="a replay snapshot's index (GET /api/runs/{id}/snapshots); "
                                         "none: the latest weights")
NEURONS = Query(None, max_length=400, description="first-layer neurons, e.g. 0,1,2 (default: all, up to 64)")


def network_of(run: Run, snapshot: int | None) -> tuple[Network, int]:
    """Return (network, step) of the run's latest weights or of one replay snapshot (404/409)."""
    if snapshot is not None:
        try:
            s = run.replay.get(snapshot)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from None
        return s.net, int(s.meta["step"])
    latest = run.latest
    if latest is None:
        raise HTTPException(409, f"run {run.id} has no weights yet ({run.status}); try again shortly")
    return latest.snapshot, latest.step


def snapshot_network(request: Request, run_id: str | None, snapshot: int) -> Network:
    """Return a replay snapshot's network for POST /api/predict?run=ID&snapshot=INDEX."""
    if not run_id:
        raise HTTPException(422, "?snapshot=INDEX needs ?run=ID: snapshots belong to a run")
    return network_of(get_run(request, run_id), snapshot)[0]


@router.get("/{run_id}/network", responses=CONFLICT)
def read_network(request: Request, run_id: str, snapshot: int | None = SNAPSHOT) -> dict[str, Any]:
    """Return the `network` message (the picture of the network) for the latest weights or a snapshot."""
    net, step = network_of(get_run(request, run_id), snapshot)
    return network_message(net, step)


@router.get("/{run_id}/neuron", responses={**CONFLICT, 422: {"description": "no such layer or neuron"}})
def read_neuron(request: Request, run_id: str, layer: int = Query(ge=1, le=5), index: int = Query(ge=0),
                snapshot: int | None = SNAPSHOT) -> dict[str, Any]:
    """Return what one neuron looks for, as a 28x28 map: its weights (layer 1) or its weights
    combined with the earlier layers' (layer >= 2)."""
    net, _ = network_of(get_run(request, run_id), snapshot)
    try:
        return neuron_map(net, layer, index)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/{run_id}/snapshots", responses=CONFLICT)
def list_snapshots(request: Request, run_id: str) -> dict[str, Any]:
    """Return the run's replay snapshots, oldest first."""
    return {"id": run_id, "snapshots": get_run(request, run_id).replay.list()}


@router.get("/{run_id}/snapshots/{index}/weights", responses=CONFLICT)
def snapshot_weights(request: Request, run_id: str, index: int,
                     neurons: str | None = NEURONS) -> dict[str, Any]:
    """Return a `weights` message (first-layer maps) of one snapshot."""
    net, step = network_of(get_run(request, run_id), index)
    chosen = default_neurons(net)
    if neurons:
        try:
            chosen = tuple(dict.fromkeys(int(n) for n in neurons.split(",")))
        except ValueError:
            raise HTTPException(422, "neurons: whole numbers separated by commas, e.g. 0,1,2") from None
        if not 1 <= len(chosen) <= MAX_NEURONS or min(chosen) < 0 or max(chosen) >= net.sizes[1]:
            raise HTTPException(422, f"1 to {MAX_NEURONS} neurons of 0 to {net.sizes[1] - 1}")
    return json.loads(weights_message(net, step, chosen))
