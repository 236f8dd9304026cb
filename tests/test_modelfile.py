"""Model files: round trips, atomic writes, and every kind of bad file refused with a clear message."""

from __future__ import annotations

import io
import json
import pathlib
import zipfile

import numpy as np
import pytest

from app.nn.network import Network
from app.training import modelfile
from app.training.modelfile import FORMAT, ModelFileError, load_model, read_meta, save_model

META = {"name": "m", "test_accuracy": 0.9512, "config": {"hidden": [16, 16], "seed": 3}}


@pytest.fixture
def net() -> Network:
    return Network([784, 16, 16, 10], "relu", "cross_entropy", seed=3)


def test_round_trip_float32_is_exact(tmp_path, net):
    path = save_model(tmp_path / "m.npz", net, META)
    loaded, meta = load_model(path)
    assert loaded.sizes == [784, 16, 16, 10]
    assert loaded.activation.name == "relu" and loaded.cost.name == "cross_entropy"
    assert loaded.params.dtype == np.float32 and loaded.params.tobytes() == net.params.tobytes()
    assert meta["test_accuracy"] == 0.9512 and meta["config"] == META["config"] and meta["format"] == FORMAT
    assert meta["stored_dtype"] == "float32" and read_meta(path) == meta
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_round_trip_float16_rounds_the_weights_and_halves_the_file(tmp_path, net):
    full = save_model(tmp_path / "full.npz", net, META)
    half = save_model(tmp_path / "half.npz", net, META, dtype=np.float16)
    loaded, meta = load_model(half)
    assert meta["stored_dtype"] == "float16"
    assert loaded.params.dtype == np.float32  # computing stays in float32
    np.testing.assert_array_equal(loaded.params, net.params.astype(np.float16).astype(np.float32))
    assert half.stat().st_size < 0.6 * full.stat().st_size


def test_the_file_is_a_plain_npz_without_pickles(tmp_path, net):
    path = save_model(tmp_path / "m.npz", net, META)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["meta", "params"]
        assert z["meta"].dtype == np.uint8 and z["params"].dtype == np.float32
        assert json.loads(z["meta"].tobytes())["sizes"] == [784, 16, 16, 10]


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, net, monkeypatch):
    path = save_model(tmp_path / "m.npz", net, META)
    save_model(path, net, {**META, "name": "again"})  # overwriting is fine
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    good = path.read_bytes()

    def crash_half_way(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(modelfile.np, "savez_compressed", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        save_model(path, Network([784, 10]), META)
    assert path.read_bytes() == good, "the old model is intact"
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"], "no temporary file left behind"


def good_bytes(net: Network, tmp_path) -> bytes:
    return save_model(tmp_path / "good.npz", net, META).read_bytes()


def npz(path, **arrays) -> pathlib.Path:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    return path


def json_bytes(record: dict) -> np.ndarray:
    return np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)


def assert_refused(path, *fragments: str) -> None:
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    message = str(err.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_file(tmp_path):
    assert_refused(tmp_path / "nope.npz", "does not exist")


def test_truncated_zip(tmp_path, net):
    raw = good_bytes(net, tmp_path)
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    assert_refused(tmp_path / "cut.npz", "corrupt or not a model file")


def test_random_bytes(tmp_path):
    (tmp_path / "noise.npz").write_bytes(np.random.default_rng(0).bytes(5000))
    assert_refused(tmp_path / "noise.npz", "corrupt or not a model file")


def test_a_flipped_byte_inside_the_compressed_params(tmp_path, net):
    raw = bytearray(good_bytes(net, tmp_path))
    raw[len(raw) // 3] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(raw))
    assert_refused(tmp_path / "flip.npz", "corrupt")


def test_npz_without_meta(tmp_path, net):
    assert_refused(npz(tmp_path / "p.npz", params=net.params), "needs 'params' and 'meta'")


def test_object_array_is_rejected_without_being_unpickled(tmp_path, net):
    marker = tmp_path / "unpickled"
    # Unpickling this object calls Path.touch(marker): the marker file proves whether it happened.
    booby_trap = np.empty(1, dtype=object)
    booby_trap[0] = _Trap(marker)
    assert_refused(npz(tmp_path / "obj.npz", params=net.params, meta=booby_trap), "corrupt or not a model")
    assert_refused(npz(tmp_path / "obj2.npz", params=booby_trap, meta=json_bytes({})), "corrupt")
    assert not marker.exists(), "the loader unpickled an object array"
    with np.load(tmp_path / "obj.npz", allow_pickle=True) as z:  # the trap works when allowed
        z["meta"]
    assert marker.exists()


class _Trap:
    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_params_length_not_matching_the_sizes(tmp_path, net):
    with np.load(save_model(tmp_path / "m.npz", net, META), allow_pickle=False) as z:
        meta = z["meta"]
    path = npz(tmp_path / "short.npz", params=net.params[:-7], meta=meta)
    assert_refused(path, "metadata does not match the parameters", "[784, 16, 16, 10]", "13002")


@pytest.mark.parametrize("record,says", [
    ({"sizes": [784, 10], "activation": "sigmoid", "cost": "quadratic"}, "format"),
    ({"format": FORMAT, "activation": "sigmoid", "cost": "quadratic"}, "'sizes'"),
    ({"format": FORMAT, "sizes": [784, 10], "activation": "swish", "cost": "quadratic"}, "swish"),
    ({"format": FORMAT, "sizes": "784,10", "activation": "sigmoid", "cost": "quadratic"}, "does not match"),
    ({"format": FORMAT, "sizes": [784, -1, 10], "activation": "sigmoid", "cost": "quadratic"}, "positive"),
])
def test_bad_metadata(tmp_path, record, says):
    params = np.zeros(785 * 10, np.float32)
    assert_refused(npz(tmp_path / "bad.npz", params=params, meta=json_bytes(record)), says)


def test_meta_that_is_not_json(tmp_path):
    meta = np.frombuffer(b"\xff\xfe not json", dtype=np.uint8)
    assert_refused(npz(tmp_path / "bad.npz", params=np.zeros(3, np.float32), meta=meta), "corrupt")


@pytest.mark.parametrize("params,says", [
    (np.zeros((10, 785), np.float32), "flat float array"),
    (np.zeros(7850, np.int64), "flat float array"),
    (np.full(7850, np.nan, np.float32), "NaN"),
])
def test_bad_params(tmp_path, params, says):
    record = {"format": FORMAT, "sizes": [784, 10], "activation": "sigmoid", "cost": "quadratic"}
    assert_refused(npz(tmp_path / "bad.npz", params=params, meta=json_bytes(record)), says)


def test_a_zip_that_is_not_an_npz(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.npz", "w") as z:
        z.writestr("readme.txt", "hello")
    assert_refused(tmp_path / "x.npz", "needs 'params' and 'meta'")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "MAX_UNPACKED_BYTES", 4 << 20)  # the real bound is 128 MB: same check
    record = {"format": FORMAT, "sizes": [784, 10], "activation": "sigmoid", "cost": "quadratic"}
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("meta.npy", _npy(json_bytes(record)))
        z.writestr("params.npy", _npy(np.zeros(2 << 20, np.float32)))  # 8 MB of zeros, ~8 KB packed
    assert path.stat().st_size < 100_000
    assert_refused(path, "unpacks to")


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()
