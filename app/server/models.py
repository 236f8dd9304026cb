"""The models prediction can use: shipped ones (models/*.npz) and ones saved from runs (<state>/models).

Loaded networks are cached by file modification time, so a model re-saved under the same name is
picked up without a restart, and a prediction never reads a file.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.nn.network import Network
from app.training.modelfile import ModelFileError, load_model, save_model

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
NAME_RULE = "1 to 40 characters: lower-case letters, digits, '-' and '_', starting with a letter or digit"


class UnknownModelError(LookupError):
    """No model of that name (the message lists the ones there are)."""


@dataclass(frozen=True)
class LoadedModel:
    name: str
    kind: str                 # "shipped" | "saved" | "run"
    net: Network
    meta: dict[str, Any]

    def info(self) -> dict[str, Any]:
        """Return the public description of the model (no weights)."""
        return {"name": self.name, "kind": self.kind, "sizes": self.net.sizes,
                "activation": self.net.activation.name, "cost": self.net.cost.name,
                "test_accuracy": self.meta.get("test_accuracy"), "created": self.meta.get("created")}


def valid_name(name: str) -> bool:
    return bool(NAME_RE.fullmatch(name))


class ModelRegistry:
    def __init__(self, shipped_dir: Path, saved_dir: Path):
        self.shipped_dir, self.saved_dir = Path(shipped_dir), Path(saved_dir)
        self._cache: dict[tuple[str, str], tuple[float, LoadedModel]] = {}
        self._lock = threading.Lock()

    def _paths(self) -> dict[str, tuple[str, Path]]:
        """Return name -> (kind, path); a saved model never hides a shipped one of the same name."""
        found: dict[str, tuple[str, Path]] = {}
        for kind, folder in (("saved", self.saved_dir), ("shipped", self.shipped_dir)):
            if folder.is_dir():
                for path in sorted(folder.glob("*.npz")):
                    if valid_name(path.stem):
                        found[path.stem] = (kind, path)
        return found

    def names(self) -> list[str]:
        return sorted(self._paths())

    def list(self) -> list[LoadedModel]:
        """Return every readable model, shipped first; unreadable files are logged and left out."""
        models = []
        for name, (kind, path) in self._paths().items():
            try:
                models.append(self._load(name, kind, path))
            except ModelFileError as exc:
                log.warning("skipping model %s: %s", path, exc)
        return sorted(models, key=lambda m: (m.kind != "shipped", m.name))

    def get(self, name: str) -> LoadedModel:
        """Return the named model, or raise UnknownModelError / ModelFileError with a readable message."""
        if not valid_name(name):
            raise UnknownModelError(f"{name!r} is not a model name ({NAME_RULE})")
        entry = self._paths().get(name)
        if entry is None:
            available = ", ".join(self.names()) or "none"
            raise UnknownModelError(f"no model named {name!r}; available: {available}")
        return self._load(name, *entry)

    def has(self, name: str) -> bool:
        return valid_name(name) and name in self._paths()

    def _load(self, name: str, kind: str, path: Path) -> LoadedModel:
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._cache.get((kind, name))
            if cached and cached[0] == mtime:
                return cached[1]
        net, meta = load_model(path)
        model = LoadedModel(name, kind, net, meta)
        with self._lock:
            self._cache[(kind, name)] = (mtime, model)
        return model

    def save(self, name: str, net: Network, meta: dict[str, Any]) -> LoadedModel:
        """Write a run's network as a saved model (atomically) and return it.
        Raises ValueError for a bad name or one that belongs to a shipped model."""
        if not valid_name(name):
            raise ValueError(f"{name!r} is not a valid model name ({NAME_RULE})")
        if (self.shipped_dir / f"{name}.npz").exists():
            raise ValueError(f"{name!r} is a shipped model; choose another name")
        path = save_model(self.saved_dir / f"{name}.npz", net, meta)
        return self._load(name, "saved", path)
