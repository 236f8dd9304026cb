"""Saving a run under a name a saved model already has: refused unless the caller asked to replace it
(the studio asks the person first), and the refusal says how to replace it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.nn.network import Network
from app.server.models import ModelRegistry


def test_a_saved_model_is_replaced_only_when_asked(small_model_dir: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(small_model_dir, tmp_path / "models")
    registry.save("mine", Network([784, 8, 10], seed=1), {"name": "mine", "version": 0}, overwrite=False)
    with pytest.raises(ValueError, match="already saved; save again with overwrite=true"):
        registry.save("mine", Network([784, 12, 10], seed=2), {"name": "mine", "version": 1}, overwrite=False)
    assert registry.get("mine").net.sizes == [784, 8, 10], "a refused save leaves the model as it was"
    registry.save("mine", Network([784, 12, 10], seed=2), {"name": "mine", "version": 1}, overwrite=True)
    assert registry.get("mine").net.sizes == [784, 12, 10]
    assert registry.get("mine").meta["version"] == 1
