"""Draw-to-predict accuracy: 250 drawn-style digits through the full HTTP predict path (`best`), and
in process (`default`)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.imaging import open_image, preprocess
from app.training.modelfile import load_model
from tests.support.drawn import contact_sheet, drawn_set
from tests.support.server import running_server

REPO = Path(__file__).resolve().parents[1]
BEST = REPO / "models" / "best.npz"
DEFAULT = REPO / "models" / "default.npz"
REQUIRED = 0.97
REQUIRED_DEFAULT = 0.96   # the video's small network reads fewer (docs/performance.md: 98.8-99.0%)

pytestmark = pytest.mark.slow


def test_best_model_reads_drawn_digits(tmp_path):
    if not BEST.is_file():
        pytest.fail(f"{BEST} is missing: this test measures the shipped `best` model; train it "
                    "(see models/README) before running the test suite")
    samples = drawn_set(25, seed=2026)
    wrong = []
    with running_server("--no-train") as url, httpx.Client(base_url=url, timeout=30) as client:
        for i, (label, png) in enumerate(samples):
            if i % 2:  # half as a canvas would send them, half as file uploads
                data_url = "data:image/png;base64," + base64.b64encode(png).decode()
                r = client.post("/api/predict", json={"image": data_url})
            else:
                r = client.post("/api/predict", files={"file": (f"{i}.png", png, "image/png")})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["model"]["name"] == "best"
            if body["digit"] != label:
                wrong.append((label, body["digit"], png))
    accuracy = 1 - len(wrong) / len(samples)
    if accuracy < REQUIRED:
        sheet = tmp_path / "misread.png"
        contact_sheet([(label, png) for label, _, png in wrong]).save(sheet)
        pytest.fail(f"best read {accuracy:.1%} of {len(samples)} drawn digits (need {REQUIRED:.0%}); "
                    f"misread (true->predicted): {[(a, b) for a, b, _ in wrong]}; see {sheet}")
    assert len(samples) >= 200


def test_default_model_reads_drawn_digits():
    """The video's network (`default`), in process: decode, preprocess, forward pass, as predict does."""
    if not DEFAULT.is_file():
        pytest.fail(f"{DEFAULT} is missing: this test measures the shipped `default` model")
    net, _ = load_model(DEFAULT)
    samples = drawn_set(25, seed=2026)
    inputs = np.array([preprocess(open_image(png)).input.ravel() for _, png in samples])
    labels = np.array([label for label, _ in samples])
    read = net.predict(inputs).argmax(axis=1)
    accuracy = float((read == labels).mean())
    wrong = [(int(a), int(b)) for a, b in zip(labels, read, strict=True) if a != b]
    assert accuracy >= REQUIRED_DEFAULT, f"default read {accuracy:.1%} of drawn digits; misread: {wrong}"
