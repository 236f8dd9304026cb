"""The recipe of one training run: everything needed to reproduce it, validated in one place."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from app.nn.functions import ACTIVATIONS, COSTS
from app.nn.optim import SCHEDULES

LABEL_MODES = ("real", "shuffled")
MAX_HIDDEN_LAYERS, MAX_WIDTH, MAX_EPOCHS, MAX_LR = 4, 1024, 1000, 100.0
MAX_AVERAGE = 0.9999   # an average over ~10,000 steps at most
N_TRAIN = 60_000


@dataclass
class TrainConfig:
    hidden: list[int] = field(default_factory=lambda: [16, 16])
    activation: str = "sigmoid"
    cost: str = "quadratic"
    learning_rate: float = 3.0
    schedule: str = "constant"
    warmup: float = 0.0            # fraction of training spent ramping the rate up from 0
    momentum: float = 0.0
    l2: float = 0.0
    batch_size: int = 10
    epochs: int = 30
    seed: int = 0
    train_subset: int | None = None  # use only this many training examples (None: all)
    validation_size: int = 5_000     # held out of the training set, used for model selection
    label_mode: str = "real"         # "shuffled": a fixed random permutation of the training labels
    augment: float = 0.0             # 0: none; 1: the standard jitter (rotation, shift, scale, stroke)
    # > 0: the run shows, evaluates and keeps an exponential moving average of its weights with this
    # decay (0.99: about the last 100 steps) instead of the weights as trained; 0: the weights
    average: float = 0.0

    def validate(self) -> TrainConfig:
        """Return self, or raise ValueError with a message a person can act on."""
        problems = []
        if not 1 <= len(self.hidden) <= MAX_HIDDEN_LAYERS and self.hidden:
            problems.append(f"at most {MAX_HIDDEN_LAYERS} hidden layers (got {len(self.hidden)})")
        if any(not isinstance(n, int) or not 1 <= n <= MAX_WIDTH for n in self.hidden):
            problems.append(f"each hidden layer needs 1 to {MAX_WIDTH} neurons (got {self.hidden})")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {sorted(ACTIVATIONS)} (got {self.activation!r})")
        if self.cost not in COSTS:
            problems.append(f"cost must be one of {sorted(COSTS)} (got {self.cost!r})")
        if not 0 < self.learning_rate <= MAX_LR:
            problems.append(f"learning rate must be in (0, {MAX_LR:g}] (got {self.learning_rate})")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {list(SCHEDULES)} (got {self.schedule!r})")
        if not 0 <= self.warmup < 1:
            problems.append(f"warmup is a fraction in [0, 1) (got {self.warmup})")
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum must be in [0, 1) (got {self.momentum})")
        if not 0 <= self.l2 <= 1:
            problems.append(f"l2 must be in [0, 1] (got {self.l2})")
        if not 1 <= self.batch_size <= N_TRAIN:
            problems.append(f"batch size must be 1 to {N_TRAIN} (got {self.batch_size})")
        if not 1 <= self.epochs <= MAX_EPOCHS:
            problems.append(f"epochs must be 1 to {MAX_EPOCHS} (got {self.epochs})")
        if not 0 <= self.validation_size <= 20_000:
            problems.append(f"validation size must be 0 to 20000 (got {self.validation_size})")
        if self.train_subset is not None and not 1 <= self.train_subset <= N_TRAIN:
            problems.append(f"training subset must be 1 to {N_TRAIN} examples (got {self.train_subset})")
        if self.label_mode not in LABEL_MODES:
            problems.append(f"label mode must be one of {list(LABEL_MODES)} (got {self.label_mode!r})")
        if not 0 <= self.augment <= 2:
            problems.append(f"augment strength must be in [0, 2] (got {self.augment})")
        if not 0 <= self.average <= MAX_AVERAGE:
            problems.append(f"average is a decay in [0, {MAX_AVERAGE}] (got {self.average}); 0 = off")
        if not 0 <= self.seed < 2**32:
            problems.append(f"seed must be in [0, 2^32) (got {self.seed})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def sizes(self) -> list[int]:
        return [784, *self.hidden, 10]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Return a config from a dict, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
