"""The recipe of one training run: everything needed to reproduce it, validated in one place.

FIELDS is the one source of every field's type, default, bounds and help: TrainConfig's defaults and
validate(), the API's RunConfigIn (app/server/schemas.py), the command line's flags (app/cli/train.py)
and GET /api/run-config (which the page's form reads) are all derived from it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from app.nn.functions import ACTIVATIONS, COSTS
from app.nn.optim import SCHEDULES

LABEL_MODES = ("real", "shuffled")
MAX_HIDDEN_LAYERS, MAX_WIDTH, MAX_EPOCHS, MAX_LR = 4, 1024, 1000, 100.0
MAX_AVERAGE = 0.9999   # an average over ~10,000 steps at most
N_TRAIN = 60_000
PACES = ("full", "classroom")   # or a number: target examples per second
MAX_PACE = 1e6
# What one mini-batch may cost, so that no allowed recipe can take the server's memory or hold a Stop
# for minutes: the multiply-adds of its forward pass (weights x batch size), and the memory of its
# activations (float32 weighted inputs, activations and errors of every layer after the input).
MAX_STEP_WORK = 2_000_000_000
MAX_BATCH_MEMORY = 256 * 2**20
ACTIVATION_COPIES = 3


@dataclass(frozen=True)
class Spec:
    """One config field: its kind, default and bounds, as the API, the CLI and the page see them.
    `low_open`/`high_open`: the bound itself is refused. `label`: how messages name the field."""

    kind: str                      # "int" | "float" | "choice" | "list" | "pace"
    default: Any
    help: str
    label: str
    min: float | None = None
    max: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    nullable: bool = False         # None is allowed (and means "not used")
    flag: str = ""                 # the CLI's flag, when it is not --the-name
    max_text: str = ""             # how a message writes `max` (e.g. 2^32)
    message: str = ""              # the message when out of bounds, if not the usual one

    def public(self) -> dict[str, Any]:
        """Return the field as GET /api/run-config shows it."""
        out: dict[str, Any] = {"type": self.kind, "default": self.default, "help": self.help,
                               "min": self.min, "max": self.max, "nullable": self.nullable}
        if self.low_open or self.high_open:
            out["exclusive"] = {"min": self.low_open, "max": self.high_open}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.kind == "list":
            out["max_length"] = MAX_HIDDEN_LAYERS
        return out


FIELDS: dict[str, Spec] = {
    "hidden": Spec("list", [16, 16], "neurons in each hidden layer (command line: 16,16)", "hidden",
                   min=1, max=MAX_WIDTH),
    "activation": Spec("choice", "sigmoid", "the hidden layers' activation", "activation",
                       choices=tuple(sorted(ACTIVATIONS))),
    "cost": Spec("choice", "quadratic", "the cost function (cross-entropy pairs with a softmax output)",
                 "cost", choices=tuple(sorted(COSTS))),
    "learning_rate": Spec("float", 3.0, "the learning rate (eta)", "learning rate", min=0, max=MAX_LR,
                          low_open=True, flag="--lr"),
    "schedule": Spec("choice", "constant", "how the learning rate changes over the run", "schedule",
                     choices=tuple(SCHEDULES)),
    "warmup": Spec("float", 0.0, "fraction of training spent ramping the rate up from 0", "warmup",
                   min=0, max=1, high_open=True, message="warmup is a fraction in {interval} (got {value})"),
    "momentum": Spec("float", 0.0, "momentum (0: plain SGD)", "momentum", min=0, max=1, high_open=True),
    "l2": Spec("float", 0.0, "L2 weight decay", "l2", min=0, max=1),
    "batch_size": Spec("int", 10, "examples per mini-batch", "batch size", min=1, max=N_TRAIN),
    "epochs": Spec("int", 30, "passes over the training set", "epochs", min=1, max=MAX_EPOCHS),
    "seed": Spec("int", 0, "random seed (weights, shuffling)", "seed", min=0, max=2**32, high_open=True,
                 max_text="2^32"),
    "train_subset": Spec("int", None, "train on only this many examples (empty: all)", "training subset",
                         min=1, max=N_TRAIN, nullable=True),
    "validation_size": Spec("int", 5_000, "examples held out of the training set for model selection",
                            "validation size", min=0, max=20_000),
    "label_mode": Spec("choice", "real", "'shuffled': a fixed random relabelling (nothing to learn)",
                       "label mode", choices=LABEL_MODES, flag="--labels"),
    "augment": Spec("float", 0.0, "jitter strength (rotation, shift, scale, stroke); 0 = none",
                    "augment strength", min=0, max=2),
    "average": Spec("float", 0.0, "decay of a moving average of the weights that the run shows, evaluates "
                    "and keeps (e.g. 0.99); 0 = the weights as trained", "average", min=0, max=MAX_AVERAGE,
                    message="average is a decay in {interval} (got {value}); 0 = off"),
    "pace": Spec("pace", "full", "'full' (as fast as the machine goes), 'classroom' (a slow start that "
                 "speeds up) or examples per second (at least one mini-batch a second)", "pace",
                 max=MAX_PACE, choices=PACES),
}

# Learning rates that learn well for each activation and cost (the form's defaults follow them).
SUGGESTED: dict[str, dict[str, float]] = {
    "sigmoid/quadratic": {"learning_rate": 3.0},
    "sigmoid/cross_entropy": {"learning_rate": 0.5},
    "relu/quadratic": {"learning_rate": 0.5},
    "relu/cross_entropy": {"learning_rate": 0.1},
}


def interval(spec: Spec) -> str:
    """Return the field's bounds as a person writes them: [0, 1), (0, 100]."""
    high = spec.max_text or f"{spec.max:g}"
    return f"{'(' if spec.low_open else '['}{spec.min:g}, {high}{')' if spec.high_open else ']'}"


def in_bounds(spec: Spec, value: float) -> bool:
    assert spec.min is not None and spec.max is not None
    low = value > spec.min if spec.low_open else value >= spec.min
    high = value < spec.max if spec.high_open else value <= spec.max
    return low and high and math.isfinite(value)


def problem(name: str, value: Any, batch_size: int = 1) -> str | None:
    """Return what is wrong with one field's value (None: nothing)."""
    spec = FIELDS[name]
    if value is None and spec.nullable:
        return None
    if spec.kind == "choice":
        return None if value in spec.choices else \
            f"{spec.label} must be one of {list(spec.choices)} (got {value!r})"
    if spec.kind == "list":
        if not isinstance(value, list) or len(value) > MAX_HIDDEN_LAYERS:
            got = len(value) if isinstance(value, list) else repr(value)
            return f"at most {MAX_HIDDEN_LAYERS} hidden layers (got {got})"
        if any(isinstance(n, bool) or not isinstance(n, int) or not in_bounds(spec, n) for n in value):
            return f"each hidden layer needs 1 to {MAX_WIDTH} neurons (got {value})"
        return None
    if spec.kind == "pace":
        return pace_problem(value, batch_size)
    if isinstance(value, bool) or not isinstance(value, int | float) or not in_bounds(spec, value):
        if spec.message:
            return spec.message.format(interval=interval(spec), value=value)
        if spec.kind == "int" and not spec.low_open and not spec.high_open:
            return f"{spec.label} must be {spec.min:g} to {spec.max:g} (got {value})"
        return f"{spec.label} must be in {interval(spec)} (got {value})"
    return None


def pace_problem(value: Any, batch_size: int) -> str | None:
    """Return what is wrong with a pace (None: nothing). A number is examples per second."""
    if value in PACES:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not batch_size <= value <= MAX_PACE:
        return (f"pace must be 'full', 'classroom' or examples per second from {batch_size} (one "
                f"mini-batch of {batch_size} a second) to {MAX_PACE:g} (got {value!r})")
    return None


@dataclass
class TrainConfig:
    hidden: list[int] = field(default_factory=lambda: list(FIELDS["hidden"].default))
    activation: str = FIELDS["activation"].default
    cost: str = FIELDS["cost"].default
    learning_rate: float = FIELDS["learning_rate"].default
    schedule: str = FIELDS["schedule"].default
    warmup: float = FIELDS["warmup"].default
    momentum: float = FIELDS["momentum"].default
    l2: float = FIELDS["l2"].default
    batch_size: int = FIELDS["batch_size"].default
    epochs: int = FIELDS["epochs"].default
    seed: int = FIELDS["seed"].default
    train_subset: int | None = FIELDS["train_subset"].default    # None: all training examples
    validation_size: int = FIELDS["validation_size"].default
    label_mode: str = FIELDS["label_mode"].default
    augment: float = FIELDS["augment"].default
    # > 0: the run shows, evaluates and keeps an exponential moving average of its weights with this
    # decay (0.99: about the last 100 steps) instead of the weights as trained; 0: the weights
    average: float = FIELDS["average"].default
    pace: str | float = FIELDS["pace"].default   # changes nothing in the maths, only how fast it goes

    def validate(self) -> TrainConfig:
        """Return self, or raise ValueError with a message a person can act on."""
        batch = self.batch_size if isinstance(self.batch_size, int) else 1
        problems = [p for name in FIELDS if (p := problem(name, getattr(self, name), batch))]
        if not problems:   # each field is fine: can they train together, at a bearable cost?
            problems = self.size_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def training_examples(self) -> int:
        """Return how many examples the run trains on: the subset, of what the validation split leaves."""
        left = N_TRAIN - self.validation_size
        return left if self.train_subset is None else min(self.train_subset, left)

    def weights(self) -> int:
        """Return the network's number of weights and biases."""
        sizes = self.sizes
        return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))

    def batch_memory(self) -> int:
        """Return the bytes of one mini-batch's activations, as MAX_BATCH_MEMORY counts them."""
        return self.batch_size * sum(self.sizes[1:]) * 4 * ACTIVATION_COPIES

    def size_problems(self) -> list[str]:
        """Return what makes valid fields untrainable together, or too costly to train (fields checked)."""
        problems = []
        examples, batch = self.training_examples(), self.batch_size
        if examples < batch:
            if examples == self.train_subset:
                why, fix = f"training subset {examples:,}", "lower batch_size or raise train_subset"
            else:
                why = f"{N_TRAIN:,} minus the validation size {self.validation_size:,}"
                fix = "lower batch_size or validation_size"
            problems.append(f"batch size {batch:,} exceeds the {examples:,} training examples ({why}): {fix}")
        work = self.weights() * batch
        if work > MAX_STEP_WORK:
            most = max(MAX_STEP_WORK // self.weights(), 1)
            problems.append(f"one mini-batch would be too much work: {self.weights():,} weights x batch "
                            f"size {batch:,} = {work:,} multiply-adds, and the limit is {MAX_STEP_WORK:,}; "
                            f"lower batch_size (at most {most:,} for these hidden layers) or the hidden "
                            f"layers' widths")
        memory = self.batch_memory()
        if memory > MAX_BATCH_MEMORY:
            problems.append(f"one mini-batch's activations would take {memory / 2**20:,.0f} MB, and the "
                            f"limit is {MAX_BATCH_MEMORY // 2**20} MB; lower batch_size or the hidden layers'"
                            f" widths")
        return problems

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


assert {f.name for f in fields(TrainConfig)} == set(FIELDS), "FIELDS and TrainConfig: the same fields"
