"""Server settings: one typed object, read once at start-up (CLI flags over environment over defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .executors import default_executor

REPO = Path(__file__).resolve().parents[2]


def _default_state_dir() -> Path:
    return Path(os.environ.get("DIGIT_STUDIO_HOME") or "var")


def _default_token() -> str | None:
    return os.environ.get("DIGIT_STUDIO_TOKEN") or None


def _default_models_dir() -> Path:
    return Path(os.environ.get("DIGIT_STUDIO_MODELS") or REPO / "models")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    train_on_start: bool = True
    first_pace: str | float = "classroom"   # the first run's pace: a class watches it climb
    max_concurrent_runs: int = 2
    executor: str = field(default_factory=default_executor)   # "process" or "thread" (executors/)
    ray_address: str | None = field(default_factory=lambda: os.environ.get("DIGIT_STUDIO_RAY") or None)
    state_dir: Path = field(default_factory=_default_state_dir)
    data_dir: Path | None = None          # None: app.training.mnist's default (data/mnist)
    models_dir: Path = field(default_factory=_default_models_dir)  # shipped: default.npz, best.npz
    templates_dir: Path = REPO / "templates"
    static_dir: Path = REPO / "static"
    default_model: str = "best"
    fallback_model: str = "default"
    # The teacher token for changing actions (app/server/security.py). None: none on loopback, a
    # generated one (printed at start) on any other interface.
    token: str | None = field(default_factory=_default_token, repr=False)
    cors_origins: tuple[str, ...] = ()    # other origins allowed to call the API; none by default
    access_log: str = "quiet"             # quiet, all or off (app/server/accesslog.py)

    @property
    def saved_models_dir(self) -> Path:
        """Return the folder that holds models saved from runs."""
        return Path(self.state_dir) / "models"
