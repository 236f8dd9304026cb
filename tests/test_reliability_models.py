"""A model file that loads but cannot be a digit network is refused when it is loaded, with a reason:
listed in GET /api/health, left out of GET /api/models, 409 (never 500) at predict and the lessons.
A garbage checkpoint's message does not pass on NumPy's advice to load pickled data."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from app.nn.network import Network
from app.server.store import Store
from app.training.config import TrainConfig
from app.training.modelfile import FORMAT, ModelFileError, load_model, save_model
from tests.support.studio import request, studio

pytestmark = pytest.mark.slow
DRAWING = {"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464}


def raw_model(path: Path, sizes: list[int], params: np.ndarray) -> None:
    """Write a model file as save_model would, but with any sizes and parameters."""
    meta = {"format": FORMAT, "sizes": sizes, "activation": "sigmoid", "cost": "quadratic", "name": path.stem}
    np.savez_compressed(path, params=params, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def n_params(sizes: list[int]) -> int:
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


MISFITS = {   # name -> (sizes, dtype, value, words the reason holds)
    "hundred-inputs": ([100, 10], np.float32, 0.1, "784 inputs and 10 outputs"),
    "three-outputs": ([784, 16, 3], np.float32, 0.1, "784 inputs and 10 outputs"),
    "one-output": ([784, 1], np.float32, 0.1, "784 inputs and 10 outputs"),
    "huge-weights": ([784, 16, 10], np.float64, 1e300, "float32"),
}


def write_misfits(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (sizes, dtype, value, _) in MISFITS.items():
        raw_model(folder / f"{name}.npz", sizes, np.full(n_params(sizes), value, dtype=dtype))
    (folder / "pickled.npz").write_bytes(pickle.dumps({"params": [1, 2, 3]}))


@pytest.mark.parametrize("name", MISFITS)
def test_load_model_refuses_a_network_that_is_not_a_digit_model(tmp_path: Path, name: str):
    write_misfits(tmp_path)
    with pytest.raises(ModelFileError, match=MISFITS[name][3]):
        load_model(tmp_path / f"{name}.npz")


def test_a_pickled_file_is_refused_without_numpys_advice(tmp_path: Path):
    write_misfits(tmp_path)
    with pytest.raises(ModelFileError) as refused:
        load_model(tmp_path / "pickled.npz")
    assert "corrupt or not a model file" in str(refused.value) and "allow_pickle" not in str(refused.value)


def test_misfit_models_are_reported_and_refused_by_a_real_server(tmp_path: Path):
    state = tmp_path / "state"
    write_misfits(state / "models")
    save_model(state / "models" / "fine.npz", Network([784, 8, 10], seed=1), {"name": "fine"})
    store = Store(state)   # a finished run whose checkpoint is garbage
    created = "2026-01-01T00:00:00+00:00"
    store.save_run("r1", "r1", "finished", None, TrainConfig(hidden=[8]).to_dict(), created)
    store.close()
    (state / "checkpoints").mkdir()
    (state / "checkpoints" / "r1.npz").write_bytes(b"\x80\x04garbage that is neither zip nor npy")
    with studio(state, "--no-train") as server:
        _, _, health = request(f"{server.url}/api/health")
        problems = " | ".join(health["problems"])
        assert "allow_pickle" not in problems, problems
        assert "r1" in problems and "pickled.npz" in problems
        names = {m["name"] for m in request(f"{server.url}/api/models")[2]}
        assert "fine" in names and not names & {*MISFITS, "pickled"}, names
        for name, (*_, words) in MISFITS.items():
            assert f"{name}.npz" in problems and words in problems, (name, problems)
            for path, body in ((f"/api/predict?model={name}", DRAWING),
                               (f"/api/lessons/example?model={name}&index=0", None),
                               (f"/api/lessons/test-cost?model={name}", None)):
                status, _, answer = request(f"{server.url}{path}", "POST" if body else "GET", body)
                assert status == 409 and words in answer["detail"], (path, status, answer)
        assert request(f"{server.url}/api/predict?model=fine", "POST", DRAWING)[0] == 200
        assert "Traceback" not in server.output()
