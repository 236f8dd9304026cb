"""The models prediction can use: shipped ones (models/*.npz) and ones saved from runs (<state>/models).

Loaded networks are cached by file modification time, so a model re-saved under the same name is
picked up without a restart, and a prediction never reads a file.

Saved models are also rows of the `models` table (app/server/store.py). The file is written first
(atomically) and the row second, so a crash between the two leaves a complete file without a row,
which `attach` registers at the next start from the file's own metadata. Unreadable files are logged,
left out of the list and named in `problems()` (GET /api/health).

Deleting a saved model renames its file to a temporary name first (one atomic step: from then on it is
neither listed nor loaded), then drops its row, then removes the file. A crash in between is finished
at the next start from the temporary file's name. Shipped models cannot be deleted.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.nn.network import Network
from app.training.modelfile import ModelFileError, load_model, save_model

from .checkpoints import remove_stale_temporaries
from .storage import StorageError, classify
from .store import Store

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
NAME_RULE = "1 to 40 characters: lower-case letters, digits, '-' and '_', starting with a letter or digit"


DELETED_SUFFIX = ".deleted.tmp"   # a file on its way out; remove_stale_temporaries sweeps `.*.tmp`


class UnknownModelError(LookupError):
    """No model of that name (the message lists the ones there are)."""


class ShippedModelError(Exception):
    """The model comes with the code (models/*.npz) and cannot be deleted."""


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
        self.store: Store | None = None
        self._broken: dict[Path, str] = {}     # unreadable file -> why
        self._write_lock = threading.Lock()    # a save and a delete of the same name never interleave

    def attach(self, store: Store) -> None:
        """Keep saved models in `store` from now on; register complete files that have no row yet
        (the server died between writing the file and the row), and report rows whose file is gone."""
        self.store = store
        try:
            self._repair(store)
        except StorageError as exc:   # a read-only folder: repairs wait for a start that can write
            log.warning("saved models not checked against the registry: %s", exc)
        self.list()

    def _repair(self, store: Store) -> None:
        """Finish deletes a crash cut short, and register files whose row is missing."""
        if self.saved_dir.is_dir():
            self._finish_deletes(store)
            remove_stale_temporaries(self.saved_dir)
        rows = store.models()
        for name, (kind, path) in self._paths().items():
            if kind != "saved":
                continue
            try:
                model = self._load(name, kind, path)
            except (ModelFileError, UnknownModelError):
                continue  # list() reports it
            if name not in rows or rows[name]["meta"] != model.meta:  # the file is the newer truth
                log.warning("registering model %s from its file (the server stopped before its registry "
                            "row was written)", name)
                store.save_model(name, path.name, model.meta)
        for message in self._missing_files():
            log.error(message)

    def _finish_deletes(self, store: Store) -> None:
        """Drop the rows of models whose delete a crash cut short (their file was already renamed)."""
        for tmp in self.saved_dir.glob(f".*.npz.*{DELETED_SUFFIX}"):
            name = tmp.name[1:].split(".npz.")[0]
            if valid_name(name) and not (self.saved_dir / f"{name}.npz").exists() \
                    and store.delete_model(name):
                log.warning("finished deleting model %s (the server stopped in the middle)", name)

    def problems(self) -> list[str]:
        """Return what is wrong with the model files (unreadable, or missing), as sentences."""
        self.list()
        with self._lock:
            broken = [f"model file {path}: {why}" for path, why in sorted(self._broken.items())]
        return broken + self._missing_files()

    def _missing_files(self) -> list[str]:
        rows = self.store.models() if self.store is not None else {}
        return [f"model {name}: registered but its file {self.saved_dir / row['file']} is missing"
                for name, row in sorted(rows.items()) if not (self.saved_dir / row["file"]).is_file()]

    def _folders(self) -> tuple[tuple[str, Path], ...]:
        """Return (kind, folder) of the models' folders, the one whose model wins a shared name first."""
        return ("shipped", self.shipped_dir), ("saved", self.saved_dir)

    def _paths(self) -> dict[str, tuple[str, Path]]:
        """Return name -> (kind, path); a saved model never hides a shipped one of the same name."""
        found: dict[str, tuple[str, Path]] = {}
        for kind, folder in reversed(self._folders()):   # the first folder's file is found last: it wins
            if folder.is_dir():
                for path in sorted(folder.glob("*.npz")):
                    if valid_name(path.stem):
                        found[path.stem] = (kind, path)
        return found

    def names(self) -> list[str]:
        return sorted(self._paths())

    def list(self) -> list[LoadedModel]:
        """Return every readable model, shipped first; unreadable files are logged and left out."""
        models, broken = [], {}
        for name, (kind, path) in self._paths().items():
            try:
                models.append(self._load(name, kind, path))
            except UnknownModelError:
                continue  # deleted while we looked
            except ModelFileError as exc:
                broken[path] = str(exc)
                if path not in self._broken:  # once per file, not on every listing
                    log.error("skipping model %s: %s", path, exc)
        with self._lock:
            self._broken = broken
        return sorted(models, key=lambda m: (m.kind != "shipped", m.name))

    def get(self, name: str) -> LoadedModel:
        """Return the named model, or raise UnknownModelError / ModelFileError with a readable message."""
        if not valid_name(name):
            raise UnknownModelError(f"{name!r} is not a model name ({NAME_RULE})")
        entry = self._path_of(name)
        if entry is None:
            available = ", ".join(self.names()) or "none"
            raise UnknownModelError(f"no model named {name!r}; available: {available}")
        return self._load(name, *entry)

    def has(self, name: str) -> bool:
        return valid_name(name) and self._path_of(name) is not None

    def _path_of(self, name: str) -> tuple[str, Path] | None:
        """Return (kind, path) of the model `name` (a valid name) as _paths() finds it, by looking for
        its two possible files instead of listing both folders: predict asks on every request."""
        for kind, folder in self._folders():
            if (path := folder / f"{name}.npz").exists():
                return kind, path
        return None

    def _load(self, name: str, kind: str, path: Path) -> LoadedModel:
        """Return the model in `path` (cached while the file is unchanged); raise UnknownModelError if
        the file was deleted since it was found, ModelFileError if it cannot be read."""
        gone = UnknownModelError(f"model {name!r} was just deleted")
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            raise gone from None
        with self._lock:
            cached = self._cache.get((kind, name))
            if cached and cached[0] == mtime:
                return cached[1]
        try:
            net, meta = load_model(path)
        except ModelFileError:
            if not path.exists():
                raise gone from None
            raise
        model = LoadedModel(name, kind, net, meta)
        with self._lock:
            self._cache[(kind, name)] = (mtime, model)
        return model

    def save(self, name: str, net: Network, meta: dict[str, Any], overwrite: bool = True) -> LoadedModel:
        """Write a run's network as a saved model (atomically) and return it.
        Raises ValueError for a bad name, one that belongs to a shipped model, or (overwrite=False) one
        a saved model already has: the API asks the person before replacing a model."""
        if not valid_name(name):
            raise ValueError(f"{name!r} is not a valid model name ({NAME_RULE})")
        if (self.shipped_dir / f"{name}.npz").exists():
            raise ValueError(f"{name!r} is a shipped model; choose another name")
        # File first (atomic rename), row second: a crash in between leaves a whole file, no row.
        # A full or read-only folder raises StorageError with nothing changed: a new file whose row
        # could not be written is removed again.
        path = self.saved_dir / f"{name}.npz"
        with self._write_lock:
            existed = path.exists()
            if existed and not overwrite:
                raise ValueError(f"a model named {name!r} is already saved; "
                                 "save again with overwrite=true to replace it, or choose another name")
            try:
                save_model(path, net, meta)
            except OSError as exc:
                if (storage := classify(exc, self.saved_dir.parent)) is None:
                    raise
                raise storage from exc
            model = self._load(name, "saved", path)
            if self.store is not None:
                try:
                    self.store.save_model(name, path.name, model.meta)
                except StorageError:
                    if not existed:
                        path.unlink(missing_ok=True)
                        with self._lock:
                            self._cache.pop(("saved", name), None)
                    raise
        return model

    def delete(self, name: str) -> None:
        """Delete a saved model: its file and its registry row (either may be missing already).
        Raises UnknownModelError (not a valid name, or no such saved model) or ShippedModelError."""
        if not valid_name(name):
            raise UnknownModelError(f"{name!r} is not a model name ({NAME_RULE})")
        if (self.shipped_dir / f"{name}.npz").exists():
            raise ShippedModelError(f"{name!r} is a shipped model: it comes with the code and cannot be "
                                    "deleted; only models saved from runs can")
        path = self.saved_dir / f"{name}.npz"
        with self._write_lock:
            leaving = path.with_name(f".{path.name}.{secrets.token_hex(4)}{DELETED_SUFFIX}")
            try:
                os.replace(path, leaving)   # the one step that makes it disappear
                had_file = True
            except FileNotFoundError:
                had_file = False
            except OSError as exc:
                if (storage := classify(exc, self.saved_dir.parent)) is None:
                    raise
                raise storage from exc
            try:
                had_row = self.store.delete_model(name) if self.store is not None else False
            except StorageError:
                if had_file:   # the row stays, so the file comes back: the model is still whole
                    os.replace(leaving, path)
                raise
            leaving.unlink(missing_ok=True)
            with self._lock:
                self._cache.pop(("saved", name), None)
                self._broken.pop(path, None)
        if not (had_file or had_row):
            saved = [n for n, (kind, _) in self._paths().items() if kind == "saved"]
            raise UnknownModelError(f"no saved model named {name!r}; saved models: "
                                    f"{', '.join(saved) or 'none'} (GET /api/models lists them)")
        log.info("deleted model %s", name)
