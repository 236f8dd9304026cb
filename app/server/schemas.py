"""Request and response bodies of the JSON API (docs/api.md), kept apart from the handlers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from app.training.config import FIELDS, MAX_HIDDEN_LAYERS, PACES, Spec

MAX_STEPS = 1000
Status = Literal["queued", "running", "paused", "finished", "stopped", "failed", "diverged", "interrupted"]


class Health(BaseModel):
    status: Literal["ok"]
    runs: int
    models: int
    problems: list[str] = Field(default=[], description="unreadable checkpoints, model files or database")


class ModelInfo(BaseModel):
    name: str
    kind: Literal["shipped", "saved", "run"]
    sizes: list[int]
    activation: str
    cost: str
    test_accuracy: float | None = None
    created: str | None = None


def _field(spec: Spec) -> tuple[Any, Any]:
    """Return (type, Field) for one config field, its bounds taken from app/training/config.py."""
    bounds: dict[str, Any] = {}
    if spec.min is not None:
        bounds["gt" if spec.low_open else "ge"] = spec.min
    if spec.max is not None:
        bounds["lt" if spec.high_open else "le"] = spec.max
    kind: Any
    if spec.kind == "list":
        kind = list[Annotated[int, Field(**bounds)]]
        return kind, Field(default=list(spec.default), max_length=MAX_HIDDEN_LAYERS, description=spec.help)
    if spec.kind == "choice":
        kind = Literal[spec.choices]  # type: ignore[valid-type]
        return kind, Field(default=spec.default, description=spec.help)
    if spec.kind == "pace":   # the lower bound depends on batch_size: TrainConfig.validate checks it
        kind = Literal[PACES] | Annotated[float, Field(gt=0, le=spec.max)]  # type: ignore[valid-type]
        return kind, Field(default=spec.default, description=spec.help)
    kind = int if spec.kind == "int" else float
    if spec.nullable:
        kind = kind | None
    return kind, Field(default=spec.default, description=spec.help, **bounds)


class _RunConfigBase(BaseModel):
    # strict: `true` is not a learning rate and "30" is not a number of epochs.
    model_config = ConfigDict(extra="forbid", strict=True)


RunConfigIn = create_model(  # type: ignore[call-overload]
    "RunConfigIn", __base__=_RunConfigBase,
    __doc__="A run's recipe; every field is optional and defaults to the video's network.",
    **{name: _field(spec) for name, spec in FIELDS.items()},
    name=(str | None, Field(default=None, max_length=80, description="a label for people; not an id")),
    watch=(bool, Field(default=True, description="make this run the studio's watched run (the teacher "
                                                 "leads); false: start it quietly")))


class RunProgress(BaseModel):
    epoch: float
    epochs: int
    step: int
    examples_seen: int


class RunOut(BaseModel):
    id: str
    name: str
    status: Status
    config: dict[str, Any]
    created: str
    error: str | None
    progress: RunProgress
    metrics: dict[str, Any] | None
    pace: str | float = Field(description="the pace now (config.pace is the pace it started with)")
    warning: dict[str, Any] | None = Field(description="a run that stopped learning says so, or null")


class PaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    pace: _field(FIELDS["pace"])[0] = Field(description=FIELDS["pace"].help)  # type: ignore[valid-type]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    steps: int = Field(default=1, ge=1, le=MAX_STEPS, description=f"mini-batches to take, 1 to {MAX_STEPS}")


class StepOut(BaseModel):
    run: RunOut
    steps: int
    examples_seen_before: int
    examples_seen: int
    batch_cost_before: float | None = Field(description="the last batch's cost before its update")
    batch_cost_after: float | None = Field(description="the same batch's cost after it")
    delta: dict[str, Any] = Field(description="a `weights` message of W1 after - W1 before")


class HistoryOut(BaseModel):
    id: str
    points: list[dict[str, Any]]


class SaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
                      description="1-40 of a-z, 0-9, '-' and '_'; starts with a letter or digit")


class PixelsIn(BaseModel):
    """JSON predict input: exactly one of `pixels` (28x28 or 784 numbers in 0..1) or `image` (data URL)."""

    model_config = ConfigDict(extra="forbid")

    pixels: list[float] | list[list[float]] | None = None
    image: str | None = None


class Steps(BaseModel):
    grey: list[list[float]] | None = None
    cropped: list[list[float]] | None = None
    scaled: list[list[float]] | None = None
    centred: list[list[float]] | None = None


class PredictOut(BaseModel):
    digit: int | None = Field(description="the digit the network names, or null when it learned nothing "
                                          "(`note` says why)")
    note: str | None = Field(default=None, description="why `digit` is null, in plain words")
    activations: list[float]
    probabilities: list[float] | None
    hidden: list[list[float]]
    input: list[list[float]]
    model: ModelInfo
    steps: Steps | None = None
