"""Request and response bodies of the JSON API (docs/api.md), kept apart from the handlers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.training.config import MAX_AVERAGE, MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_LR, MAX_WIDTH, N_TRAIN

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


class RunConfigIn(BaseModel):
    """A run's recipe; every field is optional and defaults to the video's network."""

    # strict: `true` is not a learning rate and "30" is not a number of epochs (issue 6).
    model_config = ConfigDict(extra="forbid", strict=True)

    hidden: list[Annotated[int, Field(ge=1, le=MAX_WIDTH)]] = Field(
        default=[16, 16], max_length=MAX_HIDDEN_LAYERS,
        description=f"at most {MAX_HIDDEN_LAYERS} layers of 1..{MAX_WIDTH} neurons")
    activation: Literal["sigmoid", "relu"] = "sigmoid"
    cost: Literal["quadratic", "cross_entropy"] = "quadratic"
    learning_rate: float = Field(default=3.0, gt=0, le=MAX_LR)
    schedule: Literal["constant", "cosine", "linear"] = "constant"
    warmup: float = Field(default=0.0, ge=0, lt=1)
    momentum: float = Field(default=0.0, ge=0, lt=1)
    l2: float = Field(default=0.0, ge=0, le=1)
    batch_size: int = Field(default=10, ge=1, le=N_TRAIN)
    epochs: int = Field(default=30, ge=1, le=MAX_EPOCHS)
    seed: int = Field(default=0, ge=0, lt=2**32)
    train_subset: int | None = Field(default=None, ge=1, le=N_TRAIN)
    validation_size: int = Field(default=5000, ge=0, le=20_000)
    label_mode: Literal["real", "shuffled"] = "real"
    augment: float = Field(default=0.0, ge=0, le=2)
    average: float = Field(default=0.0, ge=0, le=MAX_AVERAGE,
                           description="decay of a moving average of the weights that the run shows, "
                                       "evaluates and keeps (e.g. 0.99); 0 = the weights as trained")
    name: str | None = Field(default=None, max_length=80, description="a label for people; not an id")


class Progress(BaseModel):
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
    progress: Progress
    metrics: dict[str, Any] | None


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
    digit: int
    activations: list[float]
    probabilities: list[float] | None
    hidden: list[list[float]]
    input: list[list[float]]
    model: ModelInfo
    steps: Steps | None = None
