"""The MNIST loader: IDX parsing on small files written here, then the four shipped files."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.cli.main import main
from app.training import mnist
from app.training.mnist import CHECKSUMS, DatasetError, load_mnist, load_split, parse_idx

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
STEMS = list(CHECKSUMS)


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Return `array` (uint8) encoded as IDX: big-endian magic, one int32 per dimension, the data."""
    magic = 0x0800 | array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_split(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray, gz: bool) -> None:
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        raw = idx_bytes(array)
        name = f"{prefix}-{kind}-ubyte"
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)


# Synthetic IDX files ---------------------------------------------------------------------------

def test_parse_idx_reads_images_and_labels_row_major():
    images = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28) % 256
    parsed = parse_idx(idx_bytes(images))
    assert parsed.dtype == np.uint8 and parsed.shape == (3, 28, 28)
    np.testing.assert_array_equal(parsed, images)
    labels = np.array([7, 2, 1, 0, 9], np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels)), labels)


@pytest.mark.parametrize("magic", [0x00000903, 0x00000D03, 0x01000803, 0x08030000])
def test_parse_idx_rejects_a_wrong_magic_number(magic):
    with pytest.raises(DatasetError, match="magic number"):
        parse_idx(idx_bytes(np.zeros((2, 3), np.uint8), magic=magic), "some.idx")


@pytest.mark.parametrize("cut", [0, 3, 6, 16, 20])
def test_parse_idx_rejects_truncated_data(cut):
    raw = idx_bytes(np.ones((2, 4, 4), np.uint8))  # 16 bytes of header, 32 of data
    with pytest.raises(DatasetError, match="some.idx"):
        parse_idx(raw[:cut], "some.idx")


def test_parse_idx_rejects_trailing_bytes():
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        parse_idx(idx_bytes(np.ones(5, np.uint8)) + b"\0", "x")


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_load_split_reads_gz_and_raw_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 28, 28))
    labels = np.array([3, 1, 4, 1])
    write_split(tmp_path, "t10k", images, labels, gz)
    split, sums = load_split(tmp_path, "t10k", verify=False)
    assert split.images.dtype == np.float32 and split.images.shape == (4, 784)
    np.testing.assert_allclose(split.images * 255, images.reshape(4, 784), atol=1e-4)
    assert split.images.min() >= 0 and split.images.max() <= 1
    np.testing.assert_array_equal(split.labels, labels)
    assert sums["t10k-labels"] == hashlib.md5(idx_bytes(labels)).hexdigest()


def test_load_split_verifies_checksums_of_synthetic_files(tmp_path):
    write_split(tmp_path, "t10k", np.zeros((2, 28, 28)), np.array([0, 1]), gz=True)
    with pytest.raises(DatasetError) as err:
        load_split(tmp_path, "t10k", verify=True)
    assert CHECKSUMS["t10k-images-idx3-ubyte"] in str(err.value)


def test_load_split_rejects_images_and_labels_that_do_not_match(tmp_path):
    write_split(tmp_path, "t10k", np.zeros((3, 28, 28)), np.array([0, 1]), gz=False)
    with pytest.raises(DatasetError, match="do not match"):
        load_split(tmp_path, "t10k", verify=False)
    write_split(tmp_path, "t10k", np.zeros((2, 28, 28)), np.array([0, 12]), gz=False)
    with pytest.raises(DatasetError, match="digits 0 to 9"):
        load_split(tmp_path, "t10k", verify=False)


# The shipped files -----------------------------------------------------------------------------

def test_shipped_files_match_the_canonical_checksums():
    for stem, md5 in CHECKSUMS.items():
        raw = gzip.decompress((mnist.DEFAULT_DATA_DIR / f"{stem}.gz").read_bytes())
        assert hashlib.md5(raw).hexdigest() == md5, stem


def test_shipped_mnist_shapes_ranges_and_label_counts():
    data = load_mnist()
    assert data.train.images.shape == (60_000, 784) and data.test.images.shape == (10_000, 784)
    assert data.train.images.dtype == np.float32 and data.train.labels.dtype == np.int64
    assert data.train.images.min() == 0.0 and data.train.images.max() == 1.0
    assert np.bincount(data.train.labels).tolist() == TRAIN_COUNTS
    assert np.bincount(data.test.labels).tolist() == TEST_COUNTS
    assert sorted(data.checksums.values()) == sorted(CHECKSUMS.values())
    # The first training image is the famous "5"; the first test image is a "7".
    assert data.train.labels[0] == 5 and data.test.labels[0] == 7
    assert load_mnist() is data  # cached per process


# Missing and corrupt files -----------------------------------------------------------------------

@pytest.fixture
def mnist_copy(tmp_path) -> Path:
    folder = tmp_path / "mnist"
    shutil.copytree(mnist.DEFAULT_DATA_DIR, folder)
    return folder


def assert_actionable(message: str, path_part: str, stem: str) -> None:
    assert path_part in message
    assert CHECKSUMS[stem] in message, "names the expected checksum"
    assert "git checkout -- data/mnist" in message and "DIGIT_STUDIO_DATA" in message, "says what to do"
    assert "Traceback" not in message


@pytest.mark.parametrize("stem", ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_missing_file_names_it_and_says_what_to_do(mnist_copy, stem):
    (mnist_copy / f"{stem}.gz").unlink()
    with pytest.raises(DatasetError) as err:
        load_mnist(mnist_copy)
    assert_actionable(str(err.value), f"{stem}.gz", stem)
    assert str(mnist_copy) in str(err.value)


@pytest.mark.parametrize("offset", [0, 2, 3000, -6], ids=["magic", "method", "deflate-stream", "crc"])
def test_flipped_byte_in_a_gz_file_is_reported(mnist_copy, offset):
    path = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError) as err:
        load_split(mnist_copy, "t10k")
    assert_actionable(str(err.value), str(path), "t10k-labels-idx1-ubyte")


def test_flipped_byte_in_an_uncompressed_file_fails_the_checksum(mnist_copy):
    gz = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(gz.read_bytes()))
    raw[100] ^= 0x01  # still a perfectly parseable IDX file, one label changed
    gz.unlink()
    path = mnist_copy / "t10k-labels-idx1-ubyte"
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="checksum mismatch") as err:
        load_split(mnist_copy, "t10k")
    assert_actionable(str(err.value), str(path), "t10k-labels-idx1-ubyte")


def test_uncompressed_canonical_files_are_accepted(mnist_copy):
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        gz = mnist_copy / f"{stem}.gz"
        (mnist_copy / stem).write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    split, _ = load_split(mnist_copy, "t10k")
    assert np.bincount(split.labels).tolist() == TEST_COUNTS


def test_data_dir_override_by_argument_and_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(mnist.DATA_DIR_ENV, raising=False)
    assert mnist.data_dir() == mnist.DEFAULT_DATA_DIR
    monkeypatch.setenv(mnist.DATA_DIR_ENV, str(tmp_path / "env"))
    assert mnist.data_dir() == tmp_path / "env"
    assert mnist.data_dir(tmp_path / "flag") == tmp_path / "flag"  # the flag wins
    with pytest.raises(DatasetError) as err:
        load_mnist()  # reads $DIGIT_STUDIO_DATA, which is empty
    assert str(tmp_path / "env") in str(err.value)


def run_cli(*args: str, env_data: Path | None = None) -> subprocess.CompletedProcess:
    import os
    env = {k: v for k, v in os.environ.items() if k != mnist.DATA_DIR_ENV}
    if env_data is not None:
        env[mnist.DATA_DIR_ENV] = str(env_data)
    return subprocess.run([sys.executable, "-m", "app.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120, cwd=mnist.REPO_ROOT)


def corrupt_train_images(folder: Path) -> Path:
    path = folder / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[3000] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path


def test_cli_reports_a_corrupt_file_in_the_env_data_dir_without_a_traceback(mnist_copy, tmp_path):
    path = corrupt_train_images(mnist_copy)
    out = tmp_path / "m.npz"
    result = run_cli("train", "--epochs", "1", "--out", str(out), env_data=mnist_copy)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("digit-studio: error: ")
    assert_actionable(result.stderr, str(path), "train-images-idx3-ubyte")
    assert not out.exists()


def test_cli_data_dir_flag_wins_over_the_environment(mnist_copy, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(mnist.DATA_DIR_ENV, str(mnist.DEFAULT_DATA_DIR))
    path = corrupt_train_images(mnist_copy)
    out = tmp_path / "m.npz"
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--epochs", "1", "--data-dir", str(mnist_copy), "--out", str(out)])
    assert exit_.value.code != 0
    assert_actionable(capsys.readouterr().err, str(path), "train-images-idx3-ubyte")
    assert not out.exists()
