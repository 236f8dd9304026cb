"""One bad row in an otherwise valid database: the server starts, lists the rest, and names the row in
GET /api/health (a real server on a real state folder)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from app.nn.network import Network
from app.server.models import ModelRegistry
from app.server.store import FILENAME, Store
from app.training.config import TrainConfig
from tests.support.studio import request, studio

pytestmark = pytest.mark.slow
CREATED = "2026-01-01T00:00:00+00:00"


def valid_state(state: Path) -> None:
    """Two finished runs with metrics and one saved model, as a server would have written them."""
    store = Store(state)
    config = TrainConfig(hidden=[8], train_subset=1000, validation_size=500, epochs=1).to_dict()
    for run_id in ("r1", "r2"):
        store.save_run(run_id, run_id, "finished", None, config, CREATED)
        store.add_points([(run_id, {"step": s, "epoch": s / 10, "batch_cost": 0.5}) for s in range(3)])
    registry = ModelRegistry(state / "shipped", state / "models")
    registry.attach(store)
    registry.save("kept", Network([784, 8, 10], seed=1), {"name": "kept", "created": CREATED})
    store.close()


BAD_ROWS = {
    "an id that is not r<number>": ("INSERT INTO runs VALUES (7, 'zzz', 'zzz', 'finished', NULL, '{}', ?)",
                                    (CREATED,), "'zzz'"),
    "a config that is not JSON": ("INSERT INTO runs VALUES (3, 'r3', 'r3', 'finished', NULL, 'notjson', ?)",
                                  (CREATED,), "'r3'"),
    "an unknown status": ("INSERT INTO runs VALUES (4, 'r4', 'r4', 'bogus', NULL, '{}', ?)", (CREATED,),
                          "'bogus'"),
    "a metrics point that is not JSON": ("INSERT INTO metrics VALUES ('r1', 9, 'garbage')", (), "run r1"),
    "model metadata that is not JSON": ("UPDATE models SET meta = 'notjson' WHERE name = 'kept'", (),
                                        "'kept'"),
}


@pytest.mark.parametrize("what", [*BAD_ROWS, "all of them at once"])
def test_one_bad_row_is_skipped_and_reported(tmp_path: Path, what: str):
    state = tmp_path / "state"
    valid_state(state)
    chosen = BAD_ROWS if what == "all of them at once" else {what: BAD_ROWS[what]}
    with closing(sqlite3.connect(state / FILENAME)) as db, db:
        for sql, args, _ in chosen.values():
            db.execute(sql, args)
        taken = {row[0] for row in db.execute("SELECT id FROM runs")}
    with studio(state, "--no-train") as server:
        status, _, runs = request(f"{server.url}/api/runs")
        assert status == 200, runs
        assert {r["id"] for r in runs} >= {"r1", "r2"} and {r["status"] for r in runs} == {"finished"}
        _, _, health = request(f"{server.url}/api/health")
        problems = " | ".join(health["problems"])
        for _, _, words in chosen.values():
            assert words in problems and "skipped" in problems, (words, problems)
        status, _, history = request(f"{server.url}/api/runs/r1/history")
        assert status == 200 and [p["step"] for p in history["points"]] == [0, 1, 2]
        status, _, models = request(f"{server.url}/api/models")
        assert "kept" in {m["name"] for m in models}, "the model file registers it again"
        status, _, created = request(f"{server.url}/api/runs", "POST", {"hidden": [8], "epochs": 1,
                                     "train_subset": 200, "validation_size": 0})
        assert status == 201 and created["id"] not in taken, "a skipped row keeps its id"
        request(f"{server.url}/api/runs/{created['id']}/stop", "POST", b"")
        assert "Traceback" not in server.output()
