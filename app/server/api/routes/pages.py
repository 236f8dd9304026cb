"""GET /: the studio page (templates/index.html, owned by the page), and offline /docs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)

PLACEHOLDER = """<!doctype html><html><head><meta charset="utf-8"><title>Digit Studio</title></head>
<body><h1>Digit Studio</h1><p>The studio page (templates/index.html) is not there yet.
The API is up: see <a href="/docs">/docs</a>.</p></body></html>"""


# HEAD too: uptime checks and `curl -I` ask for the page's headers only.
@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def index(request: Request, model: str = "", run: str = "") -> Response:
    templates = request.app.state.templates
    if not (request.app.state.settings.templates_dir / "index.html").is_file():
        return HTMLResponse(PLACEHOLDER)
    return templates.TemplateResponse(request, "index.html", {"model": model, "run": run})


# Browsers ask for /favicon.ico on every page that names no icon; without it each page logs a 404.
@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
def favicon(request: Request) -> FileResponse:
    return FileResponse(request.app.state.settings.static_dir / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


# Swagger UI sets styles inline and draws its icons as data: SVGs; its scripts are all files.
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
DOCS_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>Digit Studio API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
<link rel="icon" href="/static/vendor/swagger-ui/favicon-32x32.png"></head>
<body><div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/js/swagger-init.js"></script></body></html>"""


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI from static/vendor/swagger-ui, so the docs work without internet; it starts from
    static/js/swagger-init.js, not an inline script, so the page's CSP needs no 'unsafe-inline'."""
    return HTMLResponse(DOCS_HTML.format(openapi_url=request.app.openapi_url or "/openapi.json"))
