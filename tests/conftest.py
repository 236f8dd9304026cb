"""Shared fixtures for the server tests: a small real model, an app with its lifespan, test images."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from app.nn.network import Network, one_hot
from app.nn.optim import SGD
from app.server.main import create_app
from app.server.runs import RunManager
from app.server.settings import Settings
from app.training.mnist import Mnist, load_mnist
from app.training.modelfile import save_model
from app.training.threads import pin_blas_threads

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    pin_blas_threads()
    return load_mnist()


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory: pytest.TempPathFactory, mnist: Mnist) -> Path:
    """Return a folder holding `default.npz`: 784-32-10 trained 1 epoch on 20000 real MNIST digits
    (about 90% on the test set; good enough to tell a clear 1 from a 7, and quick to make)."""
    net = Network([784, 32, 10], "sigmoid", "cross_entropy", seed=1)
    sgd = SGD(net, 0.5, 0.0, 0.0)
    x, labels = mnist.train.images[:20000], mnist.train.labels[:20000]
    xa, y = net.input_batch(x), one_hot(labels)
    for i in range(0, len(x), 20):
        sgd.step(xa[i:i + 20], y[i:i + 20], 0.5)
    folder = tmp_path_factory.mktemp("models")
    _, accuracy = net.evaluate(mnist.test.images, mnist.test.labels)
    save_model(folder / "default.npz", net, {"name": "default", "test_accuracy": accuracy,
                                             "created": "2026-01-01T00:00:00+00:00"})
    return folder


@pytest.fixture
def settings(tmp_path: Path, small_model_dir: Path) -> Settings:
    return Settings(train_on_start=False, state_dir=tmp_path / "state", models_dir=small_model_dir)


@pytest.fixture
def client(settings: Settings, mnist: Mnist) -> Iterator[TestClient]:
    """A TestClient with the lifespan run (models loaded, run manager started, stopped afterwards);
    runs train on the real MNIST, loaded once per session."""
    manager = RunManager(settings.max_concurrent_runs, data_loader=lambda: mnist)
    with TestClient(create_app(settings, manager=manager)) as c:
        yield c


def stroke_png(points: list[tuple[float, float]], size: int = 280, width: int = 18, ink: int = 0,
               paper: int | None = 255, fmt: str = "PNG") -> bytes:
    """Return an image file of one polyline. paper=None: transparent background (RGBA)."""
    if paper is None:
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        colour: tuple[int, ...] | int = (ink, ink, ink, 255)
    else:
        image = Image.new("L", (size, size), paper)
        colour = ink
    ImageDraw.Draw(image).line(points, fill=colour, width=width, joint="curve")
    if fmt == "JPEG" and image.mode == "RGBA":
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


ONE = [(140, 40), (140, 240)]
SEVEN = [(80, 50), (200, 50), (120, 240)]


@pytest.fixture
def one_png() -> bytes:
    return stroke_png(ONE)


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(a.shape)
    return float((a * rows).sum() / a.sum()), float((a * cols).sum() / a.sum())
