"""The lessons' runs and replays (lessons 6, 7 and 8): experiments started through the run
manager (created once, then reused), the first-layer maps of any network, and a run's timeline.

The pages and the single-network lessons (1 to 5) are in lessons.py, which this file shares
`lesson_network` and the query parameters with.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request

from app.lessons import experiments as exp
from app.lessons.ideal import ideal_maps, pixel_maps
from app.lessons.timeline import Recorder
from app.nn.network import Network
from app.server.api.routes import lesson_mistakes
from app.server.api.routes.lessons import TEACHER, Fresh, Model, Neurons, RunQ, lesson_network
from app.server.api.routes.predict import ERRORS
from app.server.api.routes.runs import create_lock, queue_full
from app.server.encode import weights_message
from app.server.security import TEACHER_ERRORS

router = APIRouter(tags=["lessons"], responses=ERRORS)


# ---- lessons 6, 7, 8: runs, created once and reused ----------------------------------------------
def ensure_runs(request: Request, configs: dict, lesson: str, create: bool) -> dict[str, Any]:
    """Return {"runs": {key: run object or None}, "created": [keys]}: the runs with these recipes,
    started through the run manager (queue and bounds apply) when `create` and not there yet."""
    manager, runs, created = request.app.state.runs, {}, []
    with create_lock:   # also keeps create-or-reuse from racing itself into two identical runs
        if create:   # the queue's bound holds for the lessons' runs too (429 with Retry-After)
            missing = sum(exp.find_existing(manager, c) is None for c in configs.values())
            if missing:
                queue_full(request, missing)
        for key, config in configs.items():
            if not create:
                run = exp.find_existing(manager, config)
                runs[key] = run.to_dict() if run is not None else None
                continue
            try:
                run, new = exp.find_or_create(manager, config, f"{lesson}: {key}")
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            runs[key] = run.to_dict()
            if new:
                created.append(key)
    return {"runs": runs, "created": created}


Subset = Query(2000, ge=200, le=10_000, description="training images (the same ones for both runs)")
Epochs = Query(60, ge=1, le=400)


@router.get("/api/lessons/runs/random-labels")
def random_label_runs(request: Request, train_subset: int = Subset, epochs: int = Epochs) -> dict[str, Any]:
    """Return lesson 6's two runs (true and shuffled labels) if they exist; never starts them."""
    return ensure_runs(request, exp.random_label_configs(train_subset, epochs), "random labels", create=False)


@router.post("/api/lessons/runs/random-labels", dependencies=TEACHER, responses=TEACHER_ERRORS)
def start_random_label_runs(request: Request, train_subset: int = Subset,
                            epochs: int = Epochs) -> dict[str, Any]:
    """Return lesson 6's two runs, starting any that do not exist yet (identical recipes are reused)."""
    return ensure_runs(request, exp.random_label_configs(train_subset, epochs), "random labels", create=True)


@router.get("/api/lessons/runs/many-valleys")
def many_valley_runs(request: Request, seeds: int = Query(4, ge=2, le=6)) -> dict[str, Any]:
    """Return lesson 7's runs (one network, several seeds) that exist; never starts them."""
    return ensure_runs(request, exp.seed_configs(seeds), "many valleys", create=False)


@router.post("/api/lessons/runs/many-valleys", dependencies=TEACHER, responses=TEACHER_ERRORS)
def start_many_valley_runs(request: Request, seeds: int = Query(4, ge=2, le=6)) -> dict[str, Any]:
    """Return lesson 7's runs, starting any that do not exist yet."""
    return ensure_runs(request, exp.seed_configs(seeds), "many valleys", create=True)


@router.post("/api/lessons/runs/wide", dependencies=TEACHER, responses=TEACHER_ERRORS)
def start_wide_run(request: Request) -> dict[str, Any]:
    """Return lesson 8's wider network's run, starting it if it does not exist yet."""
    return ensure_runs(request, {"wide": exp.WIDE}, "hidden neurons", create=True)


@router.get("/api/lessons/weights")
def weights(request: Request, neurons: int = Neurons, layer: int = Query(1, ge=1, le=4, description=(
                "hidden layer: 1 = its own weights; 2 and on = composed with the earlier layers'")),
            model: str | None = Model, run: str | None = RunQ, fresh: int | None = Fresh) -> dict[str, Any]:
    """Return the maps of a hidden layer's neurons (a `weights` message) of a model, run or fresh
    network: the first layer's weights, or for a later layer what it looks for in pixels."""
    net, info = lesson_network(request, model, run, fresh)
    if layer > len(net.sizes) - 2:
        raise HTTPException(422, f"this network has {len(net.sizes) - 2} hidden layers; "
                                 f"layer must be 1 to {len(net.sizes) - 2}")
    shown = tuple(range(min(neurons, net.sizes[layer])))
    step = int(info.get("step", 0))
    if layer == 1:
        message = json.loads(weights_message(net, step, shown))
    else:
        message = maps_message(pixel_maps(net.W, layer)[list(shown)].astype(np.float32), step)
    return {**message, "layer": layer, "model": info}


# ---- lesson 8: what the hidden neurons learned ---------------------------------------------------
def maps_message(maps: np.ndarray, step: int) -> dict[str, Any]:
    """Return 28x28 maps (k, 784) as a `weights` message, through the studio's own encoder."""
    carrier = Network([784, len(maps), 1])
    carrier.W[0][...] = maps
    return json.loads(weights_message(carrier, step, tuple(range(len(maps)))))


@router.get("/api/lessons/hidden/ideal")
def ideal() -> dict[str, Any]:
    """Return the edge and loop detectors the layered picture hopes for, as a `weights` message."""
    names, maps = ideal_maps()
    return {**maps_message(maps, 0), "names": names}


_recorders_lock = threading.Lock()
MAX_RECORDERS = 8   # about 6 MB of frames each at most; the least recently asked-for goes first


def recorder_for(request: Request, run_id: str, follow: bool = False) -> Recorder:
    """Return the timeline recorder of a run, making one the first time anyone asks. Only `follow`
    (the teacher's POST) gives it a sampling thread; readers' recorders sample when read."""
    try:
        run = request.app.state.runs.get(run_id)
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from None
    with _recorders_lock:
        state = request.app.state
        if not hasattr(state, "lesson_recorders"):
            state.lesson_recorders = {}
        recorders: dict[str, Recorder] = state.lesson_recorders
        for gone in set(recorders) - {r.id for r in state.runs.list()}:
            recorders.pop(gone).stop()   # a deleted run's frames go with it
        recorder = recorders.pop(run_id, None)   # re-inserted below: the dict is oldest-asked first
        if recorder is None or recorder.run is not run:
            # Not trained yet: its starting weights are the config's seeded initialisation, the
            # very network the trainer is about to build, so the replay can begin at step 0.
            cfg, initial = run.config, None
            if run.latest is None:
                initial = Network(cfg.sizes, cfg.activation, cfg.cost, seed=cfg.seed)
            recorder = Recorder(run, initial=initial)
        recorders[run_id] = recorder
        while len(recorders) > MAX_RECORDERS:
            recorders.pop(next(iter(recorders))).stop()
    if follow:
        recorder.follow()
    return recorder


@router.get("/api/lessons/timeline")
def timeline(request: Request, run: str = Query(..., description="the run to replay")) -> dict[str, Any]:
    """Return the frames recorded so far of a run's first-layer maps. Recording starts on first ask
    and, unless the teacher recorded the run (POST /api/lessons/runs/timeline), samples only when asked."""
    recorder = recorder_for(request, run)
    recorder.sample()
    frames = recorder.frames()
    return {"run": recorder.run.to_dict(), "frames": [
        {"index": i, "step": f.step, "epoch": round(f.epoch, 3), "test_accuracy": f.test_accuracy}
        for i, f in enumerate(frames)]}


@router.get("/api/lessons/timeline/frame")
def timeline_frame(request: Request, run: str = Query(...), index: int = Query(..., ge=0)) -> dict[str, Any]:
    """Return one recorded frame as a `weights` message."""
    frames = recorder_for(request, run).frames()
    if index >= len(frames):
        raise HTTPException(404, f"run {run} has {len(frames)} recorded frames so far; "
                                 f"index must be 0 to {len(frames) - 1}")
    frame = frames[index]
    return {**maps_message(frame.maps.astype(np.float32), frame.step), "epoch": frame.epoch,
            "test_accuracy": frame.test_accuracy}


@router.post("/api/lessons/runs/timeline", dependencies=TEACHER, responses=TEACHER_ERRORS)
def start_timeline_run(request: Request) -> dict[str, Any]:
    """Return lesson 8's timeline run (the default network, 10 epochs), starting it and its
    recorder if needed, so the replay covers it from the first step."""
    found = ensure_runs(request, {"timeline": exp.TIMELINE}, "hidden neurons", create=True)
    recorder_for(request, found["runs"]["timeline"]["id"], follow=True)
    return found


# Lesson 9's endpoints live in their own file; they join the app through this router.
router.include_router(lesson_mistakes.router)
