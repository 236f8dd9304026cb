"""The lessons: pages under /lessons and the JSON of lessons 1 to 5 under /api/lessons
(lesson_runs.py has the runs and replays of lessons 6 to 8).

Every number comes from app.lessons (the maths) or the studio's own network, registry and run
manager: `?model=NAME`, `?run=ID` (live weights) or `?fresh=SEED` (a newly initialised network).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.lessons import landscape as land
from app.lessons.catalog import BY_SLUG, LESSONS
from app.lessons.example import (
    Column,
    average_cost,
    example_cost,
    gradient_column,
    largest_nudges,
    one_step,
    parameter_gradient,
)
from app.lessons.noise import KINDS, confidence, noise_images
from app.lessons.payloads import cost_payload, image28, nudge_payload, path_payload, rounded
from app.nn.network import Network
from app.server.api.routes.predict import ERRORS, read_input, resolve_network
from app.server.encode import MAX_NEURONS, weights_message
from app.server.security import teacher

router = APIRouter(tags=["lessons"], responses=ERRORS)   # the same errors: it reuses predict's input
# Starting a lesson's runs costs the teacher's run CPU: it needs the teacher token like any other start.
TEACHER = [Depends(teacher)]

FRESH_SIZES = (784, 16, 16, 10)   # the video's network
VIDEO_MODEL = "default"          # the shipped model of that shape, trained
Model = Query(None, description="a shipped or saved model")
RunQ = Query(None, description="the live weights of this run")
Fresh = Query(None, ge=0, lt=2**32, description="a freshly initialised 784-16-16-10 network from this seed")


# ---- pages -------------------------------------------------------------------------------------
@router.get("/lessons", response_class=HTMLResponse, include_in_schema=False)
def lessons_index(request: Request) -> Response:
    return request.app.state.templates.TemplateResponse(request, "lessons/index.html", {"lessons": LESSONS})


@router.get("/lessons/{slug}", response_class=HTMLResponse, include_in_schema=False)
def lesson_page(request: Request, slug: str) -> Response:
    lesson = BY_SLUG.get(slug)
    if lesson is None:  # only known slugs reach the template loader: no path traversal
        raise HTTPException(404, f"no lesson {slug!r}; the lessons are listed at /lessons")
    i = lesson.number - 1
    return request.app.state.templates.TemplateResponse(request, f"lessons/{slug}.html", {
        "lesson": lesson, "lessons": LESSONS, "prev": LESSONS[i - 1] if i > 0 else None,
        "next": LESSONS[i + 1] if i + 1 < len(LESSONS) else None})


# ---- which network -----------------------------------------------------------------------------
def lesson_network(request: Request, model: str | None, run: str | None,
                   fresh: int | None) -> tuple[Network, dict[str, Any]]:
    """Return (network, info) for ?model, ?run or ?fresh; with none of them: the video's network
    (see video_source)."""
    model, run = model or None, run or None   # '' = not given, as the page's URL state may send
    if sum(v is not None for v in (model, run, fresh)) > 1:
        raise HTTPException(422, "give at most one of ?model=NAME, ?run=ID or ?fresh=SEED")
    state = request.app.state
    if fresh is None and model is None and run is None:
        model, run, fresh = video_source(request)
    if fresh is not None:
        net = Network(FRESH_SIZES, seed=fresh)
        return net, {"name": f"fresh-{fresh}", "kind": "fresh", "sizes": net.sizes,
                     "activation": net.activation.name, "cost": net.cost.name}
    net, info = resolve_network(request, model, run)
    if run is not None:
        latest = state.runs.get(run).latest
        info = {**info, "step": latest.step, "epoch": round(latest.epoch, 3)}
    return net, info


def watched_run_id(state: Any) -> str | None:
    """Return the id of the run the studio watches (GET /api/studio), or None. Read defensively:
    the studio's state lives with the run manager, and a server without it simply has none."""
    for holder in (getattr(state, "studio", None), state.runs):
        watched = getattr(holder, "watched", None)
        if callable(watched):
            watched = watched()
        watched = getattr(watched, "id", watched)
        if isinstance(watched, str):
            return watched
    return None


def video_source(request: Request) -> tuple[str | None, str | None, int | None]:
    """Return (model, run, fresh) for a lesson that names no network: the run the studio watches if
    it is the video's 784-16-16-10 and has weights, else the shipped `default` model (the video's
    network, trained), else the server's default model, else the newest run with weights, else a
    fresh network. The wide `best` model answers a clean digit with every output at 0.000, which
    leaves lessons 1 and 4 nothing to show, so it is one choice away, not the default."""
    state = request.app.state
    watched = watched_run_id(state)
    if watched is not None:
        try:
            run = state.runs.get(watched)
        except KeyError:
            run = None
        if run is not None and run.latest is not None and tuple(run.config.sizes) == FRESH_SIZES:
            return None, watched, None
    if state.models.has(VIDEO_MODEL):
        return VIDEO_MODEL, None, None
    settings = state.settings
    if any(state.models.has(n) for n in (settings.default_model, settings.fallback_model)):
        return None, None, None
    live = next((r for r in state.runs.list() if r.latest is not None), None)
    return (None, live.id, None) if live is not None else (None, None, 0)


def split_images(request: Request, split: str) -> tuple[np.ndarray, np.ndarray]:
    data = request.app.state.runs.data()
    part = data.test if split == "test" else data.train
    return part.images, part.labels


def pick_example(request: Request, split: str, index: int) -> tuple[np.ndarray, int]:
    images, labels = split_images(request, split)
    if index >= len(images):
        raise HTTPException(422, f"the {split} set has {len(images)} images: index 0 to {len(images) - 1}")
    return images[index], int(labels[index])


# ---- lesson 1: the cost of one example ---------------------------------------------------------
Split = Query("test", pattern="^(test|train)$", description="test or train")
Index = Query(0, ge=0, le=59_999, description="which image of the split")


@router.get("/api/lessons/example")
def example(request: Request, index: int = Index, split: str = Split, model: str | None = Model,
            run: str | None = RunQ, fresh: int | None = Fresh) -> dict[str, Any]:
    """Return one MNIST image, its label and the network's cost on it, digit by digit."""
    net, info = lesson_network(request, model, run, fresh)
    x, label = pick_example(request, split, index)
    return {"split": split, "index": index, "label": label, "input": image28(x), "model": info,
            **cost_payload(example_cost(net, x, label))}


@router.post("/api/lessons/example")
async def example_drawn(request: Request,
                        label: int = Query(..., ge=0, le=9, description="the digit you meant"),
                        model: str | None = Model, run: str | None = RunQ,
                        fresh: int | None = Fresh) -> dict[str, Any]:
    """Return the cost of your drawing (JSON pixels or image, as /api/predict) as the digit `label`."""
    net, info = lesson_network(request, model, run, fresh)
    x28, _ = await read_input(request, False)
    x = x28.reshape(784)
    return {"split": "drawing", "index": None, "label": label, "input": image28(x), "model": info,
            **cost_payload(example_cost(net, x, label))}


@router.get("/api/lessons/test-cost")
def test_cost(request: Request, model: str | None = Model, run: str | None = RunQ,
              fresh: int | None = Fresh) -> dict[str, Any]:
    """Return the average cost (the video's quadratic cost) and accuracy over all 10,000 test images."""
    net, info = lesson_network(request, model, run, fresh)
    images, labels = split_images(request, "test")
    cost, accuracy = average_cost(net, images, labels)
    return {"cost": round(cost, 6), "accuracy": round(accuracy, 4), "n": len(labels), "model": info}


# ---- lessons 2 and 3: downhill -----------------------------------------------------------------
RATE_MAX, STEPS_MAX = 10.0, 2000
Rate = Query(0.1, gt=0, le=RATE_MAX, description="learning rate")
Steps = Query(200, ge=0, le=STEPS_MAX, description="at most this many steps")


@router.get("/api/lessons/downhill/bounds")
def downhill_bounds() -> dict[str, Any]:
    """Return the limits the downhill endpoints enforce, so a page's controls offer nothing they refuse."""
    return {"learning_rate": {"above": 0.0, "max": RATE_MAX}, "steps": {"min": 0, "max": STEPS_MAX},
            "x_range": land.X_RANGE, "xy_range": land.XY_RANGE}


@router.get("/api/lessons/downhill/1d")
def downhill_1d(x0: float = Query(3.0, ge=-5, le=5), learning_rate: float = Rate,
                steps: int = Steps, samples: int = Query(241, ge=11, le=2001)) -> dict[str, Any]:
    """Return the curve, its valley floors and the descent path from x0."""
    xs = np.linspace(*land.X_RANGE, samples)
    return {"curve": {"x": rounded(xs, 4), "f": rounded(land.f1(xs), 5)}, "minima": land.local_minima_1d(),
            "x_range": land.X_RANGE, "path": path_payload(land.descend1(x0, learning_rate, steps)),
            "slope": float(land.slope1(x0))}


@router.get("/api/lessons/downhill/2d/surface")
def downhill_2d_surface(n: int = Query(80, ge=10, le=200)) -> dict[str, Any]:
    """Return the 2-D cost on an n x n grid over XY_RANGE (row = y, column = x)."""
    axis = np.linspace(*land.XY_RANGE, n)
    X, Y = np.meshgrid(axis, axis)
    return {"axis": rounded(axis, 4), "z": rounded(land.f2(X, Y), 4), "range": land.XY_RANGE}


@router.get("/api/lessons/downhill/2d")
def downhill_2d(x: float = Query(..., ge=-4, le=4), y: float = Query(..., ge=-4, le=4),
                learning_rate: float = Rate, steps: int = Steps) -> dict[str, Any]:
    """Return the gradient at (x, y), what it says about each input's importance, and the path."""
    gx, gy = (float(g) for g in land.grad2(x, y))
    return {"point": [x, y], "value": float(land.f2(x, y)), "gradient": [gx, gy],
            "importance": {k: (v if not isinstance(v, float) or np.isfinite(v) else None)
                           for k, v in land.importance(gx, gy).items()},
            "path": path_payload(land.descend2((x, y), learning_rate, steps))}


# ---- lesson 4: which nudges matter -------------------------------------------------------------
Neurons = Query(16, ge=1, le=MAX_NEURONS, description="first-layer neurons to map")
Top = Query(12, ge=1, le=100, description="how many of the largest |gradient| to list")


COLUMN_LIMIT = 13_002   # the video's network, whole; a wider one shows its largest entries
StepRate = Query(3.0, gt=0, le=RATE_MAX, description="learning rate of the one step shown")


def significant(a: np.ndarray, digits: int = 4) -> list[float]:
    """Return numbers rounded to `digits` significant figures (tiny gradients keep their size)."""
    return [float(f"{v:.{digits}g}") for v in np.asarray(a, np.float64)]


def column_payload(col: Column, sizes: list[int]) -> dict[str, Any]:
    whole = len(col.index) == col.total
    return {"total": col.total, "sizes": sizes, "order": "network" if whole else "largest",
            "gradient": significant(col.gradient), "value": significant(col.value),
            "index": None if whole else col.index.tolist()}


def gradient_payload(net: Network, x: np.ndarray, label: int, neurons: int, top: int,
                     learning_rate: float) -> dict[str, Any]:
    """Return the cost, the first-layer weights and their gradient (both as `weights` messages),
    the largest nudges, the whole gradient column, and one descent step on this example."""
    grad = parameter_gradient(net, x, label)
    shown = tuple(range(min(neurons, net.sizes[1])))
    step = one_step(net, grad, x, label, learning_rate)
    return {"label": label, "input": image28(x), **cost_payload(example_cost(net, x, label)),
            "weights": json.loads(weights_message(net, 0, shown)),
            "gradient": json.loads(weights_message(grad, 0, shown)),
            "gradient_norm": float(np.linalg.norm(grad.params)),
            "nudges": [nudge_payload(n) for n in largest_nudges(net, grad, top)],
            "column": column_payload(gradient_column(net, grad, COLUMN_LIMIT), net.sizes),
            "step": {"learning_rate": learning_rate, "before": cost_payload(step.before),
                     "after": cost_payload(step.after)}}


@router.get("/api/lessons/gradient")
def gradient(request: Request, index: int = Index, split: str = Query("train", pattern="^(test|train)$"),
             neurons: int = Neurons, top: int = Top, learning_rate: float = StepRate,
             model: str | None = Model, run: str | None = RunQ, fresh: int | None = Fresh) -> dict[str, Any]:
    """Return dC/dW of the first layer for one MNIST example, beside the weights themselves, the
    whole gradient, and the example's cost before and after one step down it."""
    net, info = lesson_network(request, model, run, fresh)
    x, label = pick_example(request, split, index)
    return {"split": split, "index": index, "model": info,
            **gradient_payload(net, x, label, neurons, top, learning_rate)}


@router.post("/api/lessons/gradient")
async def gradient_drawn(request: Request, label: int = Query(..., ge=0, le=9), neurons: int = Neurons,
                         top: int = Top, learning_rate: float = StepRate, model: str | None = Model,
                         run: str | None = RunQ, fresh: int | None = Fresh) -> dict[str, Any]:
    """The same for your drawing (JSON pixels or image), taken as the digit `label`."""
    net, info = lesson_network(request, model, run, fresh)
    x28, _ = await read_input(request, False)
    return {"split": "drawing", "index": None, "model": info,
            **gradient_payload(net, x28.reshape(784), label, neurons, top, learning_rate)}


# ---- lesson 5: random noise --------------------------------------------------------------------
@router.get("/api/lessons/noise")
def noise(request: Request, kind: str = Query("uniform", description=f"one of {', '.join(KINDS)}"),
          seed: int = Query(0, ge=0, lt=2**32), density: float = Query(0.2, ge=0, le=1),
          model: str | None = Model, run: str | None = RunQ, fresh: int | None = Fresh) -> dict[str, Any]:
    """Return one noise image with the network's answer, and how sure it is over 200 such images
    compared with the 10,000 test digits."""
    if kind not in KINDS:
        raise HTTPException(422, f"unknown noise kind {kind!r}; choose from {', '.join(KINDS)}")
    net, info = lesson_network(request, model, run, fresh)
    batch = noise_images(kind, 200, seed, density)
    a = net.predict(batch[:1])[0]
    images, _ = split_images(request, "test")
    on_noise, on_digits = confidence(net, batch), confidence(net, images)
    return {"kind": kind, "seed": seed, "density": density, "input": image28(batch[0]),
            "activations": rounded(a), "digit": int(a.argmax()), "model": info,
            "noise": on_noise.__dict__, "digits": on_digits.__dict__, "n_noise": len(batch)}
