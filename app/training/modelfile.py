"""Model files: one .npz holding the parameters and a JSON metadata record, never pickled.

Written atomically (a temporary file in the same folder, then rename), so a crash mid-write can never
leave a half-written model where a good one was.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from app.nn.network import Network

FORMAT = "digit-studio-model/1"


def _read_umask() -> int:
    # The only way to read the umask is to set it; do it once at import, before server threads start.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
# Bounds on what we read: the largest network the config allows (784-1024x4-10) is ~4M parameters.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024


class ModelFileError(Exception):
    """A model file is missing, corrupt or does not describe a network we can build."""


def save_model(path: str | os.PathLike[str], net: Network, meta: dict[str, Any],
               dtype: DTypeLike = np.float32) -> Path:
    """Write net and meta to path atomically; return the path. float16 halves the file size."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {**meta, "format": FORMAT, "sizes": net.sizes, "activation": net.activation.name,
              "cost": net.cost.name, "stored_dtype": np.dtype(dtype).name}
    meta_bytes = np.frombuffer(json.dumps(record, indent=1).encode(), dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file 0600; a model is ordinary data, so give it the usual umask mode.
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, params=net.params.astype(dtype), meta=meta_bytes)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the metadata record of a model file without building the network."""
    return load_model(path)[1]


def _read_arrays(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Return (params, meta) as stored, checking the archive before anything is decompressed."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ModelFileError(f"{path}: {path.stat().st_size:,} bytes is more than a model file may hold "
                             f"({MAX_FILE_BYTES:,})")
    try:
        # Our own file handle: np.load leaks its handle when the zip directory is unreadable.
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            if "params" not in z.files or "meta" not in z.files:
                raise ModelFileError(f"{path}: not a Digit Studio model (needs 'params' and 'meta' arrays, "
                                     f"found {z.files})")
            unpacked = sum(info.file_size for info in z.zip.infolist())
            if unpacked > MAX_UNPACKED_BYTES:  # a zip bomb, or a network far beyond our limits
                raise ModelFileError(f"{path}: unpacks to {unpacked:,} bytes, more than a model may hold")
            params, meta_bytes = z["params"], z["meta"]
        meta = json.loads(meta_bytes.tobytes().decode())
    except ModelFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, UnicodeDecodeError, KeyError) as exc:
        # ValueError covers object arrays: allow_pickle=False refuses them before unpickling anything.
        raise ModelFileError(f"{path}: corrupt or not a model file ({type(exc).__name__}: {exc})") from exc
    return params, meta


def load_model(path: str | os.PathLike[str]) -> tuple[Network, dict[str, Any]]:
    """Return (network, metadata) from a model file, or raise ModelFileError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    params, meta = _read_arrays(path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: metadata is not in format {FORMAT}")
    if params.ndim != 1 or not np.issubdtype(params.dtype, np.floating):
        raise ModelFileError(f"{path}: parameters must be a flat float array, "
                             f"got {params.dtype} {params.shape}")
    if not np.all(np.isfinite(params)):
        raise ModelFileError(f"{path}: parameters contain NaN or infinity")
    try:
        net = Network(meta["sizes"], meta["activation"], meta["cost"], params=params.astype(np.float32))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: metadata does not match the parameters ({exc})") from exc
    return net, meta
