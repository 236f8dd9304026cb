"""Load the real MNIST from its four canonical IDX files, verifying checksums.

The project ships the files under data/mnist/ (gzip, written with mtime=0). We verify the MD5 of the
*uncompressed* bytes, which is the same for every faithful copy of the original release, so a user may
also drop in the files from any mirror, gzipped or not.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "data" / "mnist"
DATA_DIR_ENV = "DIGIT_STUDIO_DATA"

# MD5 of the uncompressed canonical files (LeCun, Cortes, Burges).
CHECKSUMS = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


class DatasetError(Exception):
    """A data file is missing, corrupt or not what we expected; the message says what to do."""


@dataclass(frozen=True)
class Split:
    """Images as float32 rows in [0, 1] (n, 784) and integer labels (n,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Mnist:
    train: Split
    test: Split
    checksums: dict[str, str]


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the MNIST folder: the flag, else $DIGIT_STUDIO_DATA, else the shipped data/mnist."""
    if override:
        return Path(override)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else DEFAULT_DATA_DIR


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Return the uint8 array stored in IDX bytes (big-endian magic, dims, then row-major data)."""
    if len(raw) < 4:
        raise DatasetError(f"{name}: only {len(raw)} bytes, too short to be an IDX file.")
    magic = int.from_bytes(raw[:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte data; the low byte counts the dimensions
        raise DatasetError(f"{name}: magic number 0x{magic:08x} is not an unsigned-byte IDX file "
                           "(expected 0x00000801 for labels or 0x00000803 for images).")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{name}: header promises {ndim} dimensions but the file ends at "
                           f"{len(raw)} bytes.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise DatasetError(f"{name}: dimensions {dims} need {expected} bytes but the file has {len(raw)}; "
                           "it is truncated or corrupt.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read(folder: Path, stem: str, verify: bool) -> tuple[np.ndarray, str]:
    """Return the array in folder/stem(.gz) and the MD5 of its uncompressed bytes."""
    expected = f"the canonical {stem} (MD5 of the uncompressed data {CHECKSUMS[stem]})"
    fix = (f"Restore it from the repository (git checkout -- data/mnist) or copy the four canonical "
           f"MNIST files into {folder} (or point --data-dir / ${DATA_DIR_ENV} at them).")
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.is_file():
            break
    else:
        raise DatasetError(f"MNIST file {stem}.gz not found in {folder}: expected {expected}. {fix}")
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"{path}: cannot be read or un-gzipped ({exc}); expected {expected}. "
                           f"The file is corrupt. {fix}") from exc
    md5 = hashlib.md5(raw).hexdigest()
    if verify and md5 != CHECKSUMS[stem]:
        raise DatasetError(f"{path}: checksum mismatch, MD5 of the uncompressed data is {md5}, "
                           f"expected {CHECKSUMS[stem]}. The file is corrupt or not the original. {fix}")
    return parse_idx(raw, str(path)), md5


def load_split(folder: Path, prefix: str, verify: bool = True) -> tuple[Split, dict[str, str]]:
    images, md5_i = _read(folder, f"{prefix}-images-idx3-ubyte", verify)
    labels, md5_l = _read(folder, f"{prefix}-labels-idx1-ubyte", verify)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(images) != len(labels):
        raise DatasetError(f"{folder}: {prefix} images {images.shape} and labels {labels.shape} do not match "
                           "MNIST's (n, 28, 28) and (n,).")
    if len(labels) and labels.max() > 9:
        raise DatasetError(f"{folder}: {prefix} labels go up to {labels.max()}; MNIST's are digits 0 to 9.")
    x = images.reshape(len(images), 784).astype(np.float32) / np.float32(255.0)
    return Split(x, labels.astype(np.int64)), {f"{prefix}-images": md5_i, f"{prefix}-labels": md5_l}


_cache: dict[tuple[str, bool], Mnist] = {}


def read_mnist(folder: str | os.PathLike[str] | None = None, verify: bool = True) -> Mnist:
    """Return MNIST's 60,000 training and 10,000 test examples, read afresh (not cached)."""
    path = data_dir(folder)
    train, sums_train = load_split(path, "train", verify)
    test, sums_test = load_split(path, "t10k", verify)
    return Mnist(train, test, {**sums_train, **sums_test})


def load_mnist(folder: str | os.PathLike[str] | None = None, verify: bool = True) -> Mnist:
    """Return MNIST's 60,000 training and 10,000 test examples (cached per folder)."""
    key = (str(data_dir(folder).resolve()), verify)
    if key not in _cache:
        _cache[key] = read_mnist(folder, verify)
    return _cache[key]
