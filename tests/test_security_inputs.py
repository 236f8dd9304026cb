"""Run hyperparameters at and beyond every bound, unknown fields and wrong types: POST /api/runs.

At a bound the run is created (and stopped at once); one step beyond, or an unknown field, or a wrong
type, is a 422 whose `loc` names the field, so the page can point at it.
"""

from __future__ import annotations

import pytest

from app.training.config import MAX_AVERAGE, MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_LR, MAX_WIDTH, N_TRAIN

SMALL = {"epochs": 1, "train_subset": 100, "validation_size": 0, "batch_size": 50}

AT_BOUNDS = [
    {"hidden": []}, {"hidden": [1]}, {"hidden": [MAX_WIDTH]}, {"hidden": [4] * MAX_HIDDEN_LAYERS},
    {"learning_rate": 1e-12}, {"learning_rate": MAX_LR}, {"warmup": 0.0}, {"warmup": 0.999},
    {"momentum": 0.0}, {"momentum": 0.999}, {"l2": 0.0}, {"l2": 1.0},
    {"batch_size": 1, "train_subset": 10},
    {"batch_size": N_TRAIN, "train_subset": N_TRAIN, "validation_size": 0},
    {"epochs": 1}, {"epochs": MAX_EPOCHS}, {"seed": 0}, {"seed": 2**32 - 1},
    {"train_subset": 1, "batch_size": 1}, {"validation_size": 20_000, "train_subset": None},
    {"augment": 0.0}, {"augment": 2.0}, {"average": 0.0}, {"average": MAX_AVERAGE},
    {"name": "x" * 80}, {"name": ""}, {"activation": "relu", "cost": "cross_entropy", "schedule": "cosine"},
    {"schedule": "linear", "label_mode": "shuffled"},
]

BEYOND = [
    ("hidden", [0]), ("hidden", [MAX_WIDTH + 1]), ("hidden", [4] * (MAX_HIDDEN_LAYERS + 1)), ("hidden", [-1]),
    ("learning_rate", 0), ("learning_rate", -1.0), ("learning_rate", MAX_LR * 1.0001),
    ("warmup", -0.01), ("warmup", 1.0), ("momentum", -0.01), ("momentum", 1.0), ("l2", -1e-9), ("l2", 1.01),
    ("batch_size", 0), ("batch_size", N_TRAIN + 1), ("epochs", 0), ("epochs", MAX_EPOCHS + 1),
    ("seed", -1), ("seed", 2**32), ("train_subset", 0), ("train_subset", N_TRAIN + 1),
    ("validation_size", -1), ("validation_size", 20_001), ("augment", -0.1), ("augment", 2.01),
    ("average", -0.01), ("average", 1.0),
    ("name", "x" * 81), ("activation", "tanh"), ("cost", "hinge"), ("schedule", "step"),
    ("label_mode", "random"),
]

WRONG_TYPES = [
    ("hidden", "16,16"), ("hidden", 16), ("hidden", [16.5]), ("hidden", [[16]]), ("hidden", None),
    ("learning_rate", "fast"), ("learning_rate", [3.0]), ("learning_rate", None), ("epochs", "ten"),
    ("epochs", 2.5), ("batch_size", {"n": 10}), ("seed", "0x10"), ("activation", 1), ("name", 12),
    ("augment", "lots"), ("momentum", "yes"), ("average", "ema"),
]


def created_then_stopped(client, body: dict):
    r = client.post("/api/runs", json=body)
    if r.status_code == 201:
        client.post(f"/api/runs/{r.json()['id']}/stop")
    return r


def fields_id(fields: dict) -> str:
    return ",".join(f"{k}={str(v)[:12]}" for k, v in fields.items())


@pytest.mark.parametrize("fields", AT_BOUNDS, ids=fields_id)
def test_every_bound_itself_is_accepted(client, fields):
    body = {**SMALL, **fields}
    if body.get("train_subset") is None:
        body.pop("train_subset", None)
    r = created_then_stopped(client, body)
    assert r.status_code == 201, r.text
    config = r.json()["config"]
    for key, value in fields.items():
        if key != "name":
            assert config[key] == value, key


def field_error(r, field: str) -> dict:
    assert r.status_code == 422, r.text
    errors = [e for e in r.json()["detail"] if e["loc"][:2] == ["body", field]]
    assert errors, f"the 422 does not name {field!r}: {r.json()['detail']}"
    return errors[0]


@pytest.mark.parametrize("field, value", BEYOND, ids=lambda v: str(v)[:14])
def test_one_step_beyond_every_bound_is_a_422_naming_the_field(client, field, value):
    error = field_error(created_then_stopped(client, {**SMALL, field: value}), field)
    assert error["msg"], "pydantic says what the bound is"


@pytest.mark.parametrize("field, value", WRONG_TYPES, ids=lambda v: str(v)[:14])
def test_wrong_types_are_a_422_naming_the_field(client, field, value):
    field_error(created_then_stopped(client, {**SMALL, field: value}), field)


@pytest.mark.parametrize("text, field", [("NaN", "learning_rate"), ("Infinity", "learning_rate"),
                                         ("-Infinity", "momentum"), ("NaN", "l2"), ("1e999", "augment")])
def test_non_finite_numbers_are_refused(client, text, field):
    body = f'{{"epochs": 1, "{field}": {text}}}'
    r = client.post("/api/runs", content=body.encode(), headers={"content-type": "application/json"})
    field_error(r, field)


@pytest.mark.parametrize("unknown", ["lr", "hidden_sizes", "__class__", "config", "id"])
def test_unknown_fields_are_refused_by_name(client, unknown):
    error = field_error(created_then_stopped(client, {**SMALL, unknown: 1}), unknown)
    assert "extra" in error["msg"].lower()
    assert client.get("/api/runs").json() == [], "a refused request starts nothing"


@pytest.mark.parametrize("body", ["[]", '"run"', "null", "{", '{"epochs": 1, "epochs": "x"}', ""])
def test_bodies_that_are_not_a_config_object(client, body):
    r = client.post("/api/runs", content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"], "FastAPI says what it expected"


def test_save_name_bounds(client):
    for name in ["", "-lead", "UPPER", "a" * 41, "a b", "a/b", "a.npz"]:
        field_error(client.post("/api/runs/r1/save", json={"name": name}), "name")
    r = client.post("/api/runs/r1/save", json={"name": "a" * 40})
    assert r.status_code == 404, "a valid name reaches the handler, which finds no run r1"
    field_error(client.post("/api/runs/r1/save", json={"name": "ok", "overwrite": True}), "overwrite")
