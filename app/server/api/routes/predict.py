"""POST /api/predict: a digit from an uploaded image, a canvas data URL, or 28x28 pixels."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.datastructures import UploadFile

from app.imaging import ImageError, decode_data_url, pixels_to_input
from app.server.api.routes.replay import snapshot_network
from app.server.bodylimit import IMAGE_BODY_LIMIT
from app.server.decoding import image_input
from app.server.inference import describe
from app.server.models import ModelFileError, UnknownModelError
from app.server.schemas import PredictOut
from app.server.stuck import NEAR_CHANCE

log = logging.getLogger(__name__)
router = APIRouter(tags=["predict"])
# Every error this file raises, documented, so clients (and the schema fuzz) know what to expect.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "unreadable input"}, 404: {"description": "unknown model or run"},
    409: {"description": "run without weights yet, or the model's file cannot be read"},
    413: {"description": "file over 5 MB or 4096x4096"}, 415: {"description": "not an image"},
    422: {"description": "empty drawing, wrong shape or range"},
    503: {"description": "no model at all (neither `best` nor `default`), or busy decoding other large "
                         "images (try again after Retry-After seconds)"}}

MAX_BODY = IMAGE_BODY_LIMIT   # enforced by the security middleware (app/server/bodylimit.py)
RETRY = {"Retry-After": "1"}
UPLOAD = {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary", "description": "PNG, JPEG, WebP, GIF or BMP"}}}},
    "application/json": {"schema": {"type": "object", "properties": {
        "pixels": {"description": "784 numbers, or 28 rows of 28, in 0..1 (1 = ink), already MNIST-like",
                   "type": "array", "items": {}},
        "image": {"type": "string", "description": "data:image/png;base64,..."}}},
        "example": {"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464}}}


@router.post("/api/predict", response_model=PredictOut, openapi_extra={"requestBody": {
    "required": True, "content": UPLOAD}}, responses=ERRORS)
async def predict(request: Request,
                  model: str | None = Query(None, description="a shipped or saved model"),
                  run: str | None = Query(None, description="use the live weights of this run"),
                  steps: bool = Query(False, description="include the preprocessing steps"),
                  snapshot: int | None = Query(None, ge=0, description="with ?run: a replay snapshot"),
                  ) -> dict[str, Any]:
    """Return the digit the network sees, every layer's activations and the 28x28 it was given."""
    net, info = resolve_network(request, model, run)
    if snapshot is not None:
        net = snapshot_network(request, run, snapshot)
    x28, step_images = await read_input(request, steps)
    return describe(net, x28, info, step_images, untrained_note(request, run or None, info))


def untrained_note(request: Request, run: str | None, info: dict[str, Any]) -> str | None:
    """Return why this run or model is known to have learned nothing (None: not known): a run whose
    stuck warning stands, or a model that scored no better than chance on the test images."""
    if run is not None:
        try:
            warning = request.app.state.runs.get(run).warning
        except KeyError:   # deleted since: its weights were found, so they answer
            return None
        if warning is not None and warning.get("code") == "stuck":
            return (f"run {run} has not learned to tell digits apart, so it names no digit: "
                    f"{warning.get('message')}; {warning.get('suggestion')}")
        return None
    accuracy = info.get("test_accuracy")
    if accuracy is not None and accuracy < NEAR_CHANCE:
        return (f"model {info['name']!r} scored {accuracy:.0%} on the test images, no better than guessing, "
                "so it names no digit; pick another model")
    return None


def resolve_network(request: Request, model: str | None, run: str | None) -> tuple[Any, dict[str, Any]]:
    """Return (network, model info) for ?run=ID, ?model=NAME or the default model ('' = not given)."""
    model, run = model or None, run or None
    if model is not None and run is not None:
        raise HTTPException(422, "give either ?model=NAME or ?run=ID, not both")
    state = request.app.state
    if run is not None:
        try:
            r = state.runs.get(run)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from None
        latest = r.latest
        if latest is None:
            why = (f"ended ({r.status}) before it produced any weights" if r.ended
                   else f"has not produced weights yet ({r.status}); try again shortly")
            raise HTTPException(409, f"run {run} {why}")
        net = latest.snapshot
        return net, {"name": run, "kind": "run", "sizes": net.sizes, "activation": net.activation.name,
                     "cost": net.cost.name, "test_accuracy": latest.test_accuracy, "created": r.created}
    name = model or default_model_name(request)
    try:
        loaded = state.models.get(name)
    except UnknownModelError as exc:
        raise HTTPException(404, str(exc)) from None
    except ModelFileError as exc:
        # The server is fine and the name is right, but the file on disk is damaged: the state of the
        # server, not the request, is what needs changing (replace or delete the file).
        raise HTTPException(409, f"model {name!r} is on disk but cannot be read, so it is left out: "
                                 f"{exc}. Pick another model, or replace the file.") from None
    return loaded.net, loaded.info()


def default_model_name(request: Request) -> str:
    """Return `best` if it exists, else `default` (checked per request: `best` may arrive later)."""
    settings, models = request.app.state.settings, request.app.state.models
    if models.has(settings.default_model):
        return settings.default_model
    if models.has(settings.fallback_model):
        log.warning("model %r is missing; answering with %r", settings.default_model, settings.fallback_model)
        return settings.fallback_model
    raise HTTPException(503, f"no {settings.default_model!r} or {settings.fallback_model!r} model in "
                             f"{settings.models_dir}; train one (digit-studio train) or pass ?run=ID")


async def read_input(request: Request, keep_steps: bool) -> tuple[Any, dict | None]:
    """Return (28x28 input, preprocessing steps or None) from whichever form the body takes."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # The security middleware has refused any body over the image limit before it was read whole.
    # Read once: request.form() below parses from this cached body.
    body = await request.body()
    try:
        if content_type == "multipart/form-data":
            data = await upload_bytes(request)
            return await image_input(data, keep_steps)
        if content_type in ("application/json", ""):
            payload = parse_json(body)
            if "pixels" in payload:
                return read_pixels(payload["pixels"]), None
            data = decode_data_url(payload["image"]) if isinstance(payload["image"], str) else b""
            if not data:
                raise ImageError("'image' must be a non-empty data URL string", 422)
            return await image_input(data, keep_steps)
    except ImageError as exc:
        raise HTTPException(exc.status, str(exc), headers=RETRY if exc.status == 503 else None) from None
    raise HTTPException(415, f"unsupported content type {content_type!r}: send multipart/form-data with a "
                             "'file' field, or JSON with 'pixels' or 'image'")


async def upload_bytes(request: Request) -> bytes:
    """Return the bytes of the multipart field `file`."""
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # python-multipart raises several types for malformed bodies
        raise ImageError(f"cannot parse the multipart form ({exc})", 400) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ImageError("the multipart form needs a file field named 'file'", 422)
        return await upload.read()
    finally:
        await form.close()


def read_pixels(pixels: object) -> Any:
    """Return the (28, 28) input for JSON `pixels`, refusing (422) text and true/false among them:
    NumPy would read "0.5" and true as numbers, and a client that sends them has a bug to hear about."""
    if not only_numbers(pixels):
        refuse_text(pixels)
    return pixels_to_input(pixels)


NUMBER_TYPES = {int, float}


def only_numbers(pixels: object) -> bool:
    """Return True if `pixels` is a list of numbers or of lists of numbers (neither text nor true/false):
    the fast path of refuse_text, one C-level pass of type() per row, for the pixels every drawing
    sends. False means "look closer": refuse_text then finds what is wrong, if anything is."""
    if not isinstance(pixels, list):
        return False
    kinds = set(map(type, pixels))
    if kinds <= NUMBER_TYPES:
        return True
    return kinds == {list} and all(set(map(type, row)) <= NUMBER_TYPES for row in pixels)


def refuse_text(pixels: object) -> None:
    """Raise ImageError (422) naming the first text or true/false value among `pixels` (the reference:
    every value looked at in turn)."""
    values = pixels if isinstance(pixels, list) else []
    for i, row in enumerate(values):
        for j, value in enumerate(row if isinstance(row, list) else [row]):
            if isinstance(value, str | bool):
                where = f"[{i}][{j}]" if isinstance(row, list) else f"[{i}]"
                raise ImageError(f"'pixels' must be 784 numbers in 0..1 (or 28 rows of 28), not text or "
                                 f"true/false; pixels{where} is {json.dumps(value)[:20]}", 422)


MAX_BRACKETS = 64     # 28 rows of pixels need 29 '[' and one '{'; a data URL needs none
MAX_COMMAS = 4096     # 784 pixels need 783 commas; a data URL one


def check_json_size(body: bytes | str) -> None:
    """Refuse JSON too deep or with too many values for any valid input, before parsing it: parsing
    a million numbers would take far more time and memory than any valid input, for a body that can
    only be refused anyway.
    A data URL's base64 holds no '[', '{' or ',' (bar the one after 'base64'), so this costs it nothing."""
    text = body.encode() if isinstance(body, str) else body
    if text.count(b"[") + text.count(b"{") > MAX_BRACKETS:
        raise ImageError("the JSON is nested too deeply; send {\"pixels\": [...]} with at most 28 rows "
                         "of 28 numbers", 400)
    if text.count(b",") > MAX_COMMAS:
        raise ImageError(f"the JSON holds over {MAX_COMMAS} values; 'pixels' takes 784 numbers "
                         "(or 28 rows of 28)", 422)


def parse_json(body: bytes) -> dict[str, Any]:
    """Return the JSON object with exactly one of 'pixels' or 'image'."""
    check_json_size(body)
    try:
        payload = json.loads(body)
    except RecursionError:
        raise ImageError("the JSON is nested too deeply; send {\"pixels\": [...]} with at most 28 rows of "
                         "28 numbers", 400) from None
    except (ValueError, UnicodeDecodeError):
        raise ImageError("the body is not valid JSON; send {\"pixels\": [...]} or {\"image\": \"data:...\"}",
                         400) from None
    if not isinstance(payload, dict) or len({"pixels", "image"} & payload.keys()) != 1:
        raise ImageError("send a JSON object with exactly one of 'pixels' (784 numbers in 0..1) or "
                         "'image' (a data URL)", 422)
    return payload
