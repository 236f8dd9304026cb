"""Health, models, the page, offline /docs and the OpenAPI schema."""

from __future__ import annotations

import re

from app.server.main import create_app
from app.server.settings import Settings


def test_health(client):
    assert client.get("/api/health").json() == {"status": "ok", "runs": 0, "models": 1, "problems": []}


def test_models_lists_shipped_models_with_their_figures(client):
    (model,) = client.get("/api/models").json()
    assert model["name"] == "default" and model["kind"] == "shipped"
    assert model["sizes"] == [784, 32, 10] and model["activation"] == "sigmoid"
    assert 0.85 < model["test_accuracy"] < 1 and model["created"].startswith("2026")


def test_corrupt_model_file_is_left_out_not_fatal(client, settings):
    settings.saved_models_dir.mkdir(parents=True, exist_ok=True)
    (settings.saved_models_dir / "broken.npz").write_bytes(b"not a zip")
    assert [m["name"] for m in client.get("/api/models").json()] == ["default"]
    r = client.post("/api/predict?model=broken", json={"pixels": [1.0] * 784})
    assert r.status_code == 409 and "corrupt" in r.json()["detail"] and "replace" in r.json()["detail"]


def test_page_renders_the_template_with_model_and_run(tmp_path, small_model_dir):
    from fastapi.testclient import TestClient
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "index.html").write_text('<body data-model="{{ model }}" data-run="{{ run }}">')
    settings = Settings(train_on_start=False, state_dir=tmp_path / "s", models_dir=small_model_dir,
                        templates_dir=templates)
    with TestClient(create_app(settings)) as c:
        r = c.get("/?model=best&run=r2")
        assert r.status_code == 200 and r.text == '<body data-model="best" data-run="r2">'
        head = c.head("/")
        assert head.status_code == 200 and head.headers["content-type"].startswith("text/html")
        assert c.get("/").text == '<body data-model="" data-run="">'
        assert 'data-model="&lt;b&gt;"' in c.get("/?model=<b>").text  # autoescaped


def test_page_placeholder_without_template(tmp_path, small_model_dir):
    from fastapi.testclient import TestClient
    settings = Settings(train_on_start=False, state_dir=tmp_path / "s", models_dir=small_model_dir,
                        templates_dir=tmp_path / "none")
    with TestClient(create_app(settings)) as c:
        assert "Digit Studio" in c.get("/").text


def test_docs_work_offline(client):
    page = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/static/") for a in assets), assets  # no CDN
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert "swagger" in client.get("/static/vendor/swagger-ui/LICENSE").text.lower() or \
        "apache" in client.get("/static/vendor/swagger-ui/LICENSE").text.lower()
    schema = client.get("/openapi.json").json()
    assert {"/api/predict", "/api/runs", "/api/runs/{run_id}/save", "/api/models"} <= set(schema["paths"])
