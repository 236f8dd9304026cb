"""Lesson 9's JSON: the test digits a network misreads, most confident first, and its confusion
matrix. Included by lesson_runs.py's router (the lessons' routers are assembled there and in
lessons.py)."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request

from app.lessons.mistakes import pick, read_all
from app.server.api.routes.lessons import Fresh, Model, RunQ, lesson_network, split_images
from app.server.api.routes.predict import ERRORS

router = APIRouter(tags=["lessons"], responses=ERRORS)

def pixels_b64(image: np.ndarray) -> str:
    """Return a 784-pixel image (0..1) as base64 of 784 bytes (0..255): ~1 KB instead of ~3 KB of JSON."""
    return base64.b64encode(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8).tobytes()).decode("ascii")


@router.get("/api/lessons/mistakes")
def mistakes(request: Request, right: int | None = Query(None, ge=0, le=9, description="the right digit"),
             answer: int | None = Query(None, ge=0, le=9, description="the network's answer"),
             limit: int = Query(48, ge=1, le=200, description="at most this many images"),
             model: str | None = Model, run: str | None = RunQ, fresh: int | None = Fresh) -> dict[str, Any]:
    """Return the confusion matrix over the 10,000 test images and the images of one cell
    (?right=D&answer=E), or of every mistake: most confident mistakes first."""
    if (right is None) != (answer is None):
        raise HTTPException(422, "give both ?right= and ?answer= (one cell of the matrix), or neither "
                                 "(every mistake)")
    net, info = lesson_network(request, model, run, fresh)
    images, labels = split_images(request, "test")
    reading = read_all(net, images, labels)
    index, matching = pick(reading, labels, right, answer, limit)
    errors = int((reading.answers != labels).sum())
    return {"model": info, "n": len(labels), "errors": errors, "accuracy": round(1 - errors / len(labels), 4),
            "confusion": reading.confusion.tolist(), "cell": None if right is None else [right, answer],
            "matching": matching, "images": [
                {"index": int(i), "label": int(labels[i]), "answer": int(reading.answers[i]),
                 "confidence": round(float(reading.confidence[i]), 4),
                 "on_label": round(float(reading.on_label[i]), 4), "pixels": pixels_b64(images[i])}
                for i in index]}
