"""GET /: the studio page (templates/index.html, owned by the page), and offline /docs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

PLACEHOLDER = """<!doctype html><html><head><meta charset="utf-8"><title>Digit Studio</title></head>
<body><h1>Digit Studio</h1><p>The studio page (templates/index.html) is not there yet.
The API is up: see <a href="/docs">/docs</a>.</p></body></html>"""


@router.get("/", response_class=HTMLResponse)
def index(request: Request, model: str = "", run: str = "") -> Response:
    templates = request.app.state.templates
    if not (request.app.state.settings.templates_dir / "index.html").is_file():
        return HTMLResponse(PLACEHOLDER)
    return templates.TemplateResponse(request, "index.html", {"model": model, "run": run})


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI from static/vendor/swagger-ui, so the docs work without internet."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json", title="Digit Studio API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png")
