"""Fuzz the HTTP API from its own OpenAPI schema with Schemathesis, in-process (the ASGI app with its
lifespan: shipped model, run manager on the real MNIST). Every operation gets a bounded number of
generated requests, valid and invalid: none may get a 5xx, and every response must match the schema
(status code documented, body of the documented shape, content type as declared).

Runs created by the fuzzer are stopped at once, so the fuzz does not train for real.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    positive_data_acceptance,
    unsupported_method,
)

from app.server.main import create_app
from app.server.runs import RunManager

TOKEN = "fuzz-teacher-token"
EXAMPLES = 25   # per operation: ~20 operations x 25 requests fit well inside 90 s on this machine
# Streams answer 404 for unknown runs; a fuzzed run's stream would follow it until it ends.
STREAMS = r"/events$"
# Starlette answers a method no route takes (OPTIONS, or DELETE on /api/runs) with 405 and an `Allow`
# listing only the first matching route's methods: framework routing, not this API's schema.
# positive_data_acceptance expects a 2xx for every schema-valid request, but some refusals depend on
# more than one field or on data, which a schema cannot say: an empty drawing, `model` and `run`
# together, index 9999 < n only for the test split. Those are clear 4xx by design (tested in
# test_predict_api.py and test_lessons_api.py), so that one check is left out.
EXCLUDED = [allow_header_conformance, unsupported_method, positive_data_acceptance]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, small_model_dir, mnist) -> Iterator[object]:
    from app.server.settings import Settings
    state = tmp_path_factory.mktemp("fuzz-state")
    app = create_app(Settings(train_on_start=False, state_dir=state, models_dir=small_model_dir, token=TOKEN),
                     manager=RunManager(2, data_loader=lambda: mnist))
    yield app
    asgi.shutdown_lifespans()   # Schemathesis started the lifespan on first use; stop its runs now


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app).exclude(path_regex=STREAMS)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_by_its_own_schema(case, fuzz_app):
    if case.headers and "Authorization" in case.headers:
        # The fuzzer's bearer tokens are random (403 every time): use the teacher's, so the request
        # bodies behind the token get fuzzed too. Cases without the header still test the 401.
        case.headers["Authorization"] = f"Bearer {TOKEN}"
    response = case.call_and_validate(excluded_checks=EXCLUDED)
    if case.method == "POST" and response.status_code == 201 and "id" in (response.json() or {}):
        stop_everything(fuzz_app)
    elif case.path.startswith("/api/lessons/runs") and case.method == "POST":
        stop_everything(fuzz_app)


def stop_everything(app) -> None:
    """Stop every run the fuzzer started, so it trains nothing between requests."""
    manager = app.state.runs
    for run in manager.list():
        if not run.ended:
            try:
                manager.stop(run.id)
            except Exception:   # already stopping or ended in between: nothing to do
                pass
