"""Model files: one .npz holding the parameters and a JSON metadata record, never pickled.

Written atomically (app.atomicfile: a temporary file in the same folder, then rename), so a crash
mid-write can never leave a half-written model where a good one was.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from app.atomicfile import atomic_write
from app.nn.network import Network

FORMAT = "digit-studio-model/1"
INPUTS, OUTPUTS = 784, 10     # a 28x28 image in, one output per digit out: what predict and lessons need
MAX_LAYER = 4096              # wider than any config allows (1024), far below what would exhaust memory

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
    # A model is ordinary data: the file gets the usual umask mode (not private).
    atomic_write(path, lambda f: np.savez_compressed(f, params=net.params.astype(dtype), meta=meta_bytes))
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
        if "pickle" in str(exc):   # NumPy's message advises allow_pickle=True: never for a file from outside
            raise ModelFileError(f"{path}: corrupt or not a model file (neither an .npz archive nor an "
                                 "array; pickled Python objects are never loaded); replace or delete it"
                                 ) from exc
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
    if (why := sizes_problem(meta.get("sizes"))) is not None:
        raise ModelFileError(f"{path}: {why}")
    with np.errstate(over="ignore"):
        weights = params.astype(np.float32)   # float64 values beyond float32's range become infinite
    if not np.all(np.isfinite(weights)):
        raise ModelFileError(f"{path}: parameters contain NaN or infinity, or values beyond float32's range")
    try:
        net = Network(meta["sizes"], meta["activation"], meta["cost"], params=weights)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: metadata does not match the parameters ({exc})") from exc
    return net, meta


def sizes_problem(sizes: object) -> str | None:
    """Return why `sizes` cannot be a digit network (784 inputs, 10 outputs, sane layers), or None
    (sizes that are not a list of whole numbers are left to Network, which says what is wrong)."""
    if not isinstance(sizes, list) or len(sizes) < 2 or \
            not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes):
        return None
    if sizes[0] != INPUTS or sizes[-1] != OUTPUTS:
        return (f"the network is {'-'.join(map(str, sizes))}; a digit model needs {INPUTS} inputs and "
                f"{OUTPUTS} outputs (28x28 pixels in, one output per digit)")
    if not all(1 <= n <= MAX_LAYER for n in sizes[1:-1]):
        return f"hidden layers must have a positive number of neurons, at most {MAX_LAYER}, got {sizes[1:-1]}"
    return None
