"""Who may do what (the teacher token), the headers every response carries, and bounded bodies."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.cli.serve import announce_token
from app.lessons.catalog import LESSONS
from app.server.main import create_app
from app.server.runs import RunManager
from app.server.security import BODY_LIMIT, SecurityMiddleware, is_loopback, resolve_token
from tests.conftest import REPO, SEVEN, stroke_png

TOKEN = "correct-horse-battery"
TINY_RUN = {"hidden": [8], "epochs": 1, "train_subset": 200, "validation_size": 0, "batch_size": 50}


def studio(settings, mnist, **changes) -> TestClient:
    """Return a TestClient (not yet started) for the app with `changes` applied to the settings."""
    manager = RunManager(settings.max_concurrent_runs, data_loader=lambda: mnist)
    return TestClient(create_app(dataclasses.replace(settings, **changes), manager=manager))


@pytest.fixture
def classroom(settings, mnist) -> Iterator[TestClient]:
    """The server as a teacher starts it for a room: on every interface, with an explicit token."""
    with studio(settings, mnist, host="0.0.0.0", token=TOKEN) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.8.0.2", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("::", False),
                                            ("192.168.1.20", False), ("studio.school.lan", False)])
def test_what_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback
    token, generated = resolve_token(host, None)
    assert (token is None) is loopback and generated is (not loopback)
    assert resolve_token(host, "mine") == ("mine", False), "a configured token is always used"


def test_a_generated_token_is_long_random_and_printed(capsys):
    first, _ = resolve_token("0.0.0.0", None)
    second, _ = resolve_token("0.0.0.0", None)
    assert first != second and len(first) >= 20
    announce_token(first, True, "0.0.0.0")
    assert first in capsys.readouterr().out
    announce_token(None, False, "127.0.0.1")
    assert "no token" in capsys.readouterr().out


def test_loopback_without_a_token_stays_open(client):
    r = client.post("/api/runs", json=TINY_RUN)
    assert r.status_code == 201, r.text
    assert client.post(f"/api/runs/{r.json()['id']}/stop").status_code in (200, 409)


def test_a_student_without_the_token_is_refused_with_a_clear_message(classroom):
    for path, body in [("/api/runs", TINY_RUN), ("/api/runs/r1/pause", None), ("/api/runs/r1/resume", None),
                       ("/api/runs/r1/stop", None), ("/api/runs/r1/save", {"name": "mine"}),
                       ("/api/lessons/runs/wide", None), ("/api/lessons/runs/random-labels", None)]:
        r = classroom.post(path, json=body)
        assert r.status_code == 401, (path, r.text)
        assert "teacher token" in r.json()["detail"] and "drawing" in r.json()["detail"], path
        assert r.headers["www-authenticate"] == "Bearer"
        wrong = classroom.post(path, json=body, headers=bearer("guess"))
        assert wrong.status_code == 403 and "wrong" in wrong.json()["detail"], (path, wrong.text)
    basic = classroom.post("/api/runs", json=TINY_RUN, headers={"Authorization": "Basic dGVhY2hlcg=="})
    assert basic.status_code == 401
    assert classroom.get("/api/runs").json() == [], "nothing was started by the refused requests"


def test_a_student_can_still_watch_and_draw(classroom):
    started = classroom.post("/api/runs", json=TINY_RUN, headers=bearer(TOKEN))
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    assert classroom.get("/").status_code == 200
    assert [r["id"] for r in classroom.get("/api/runs").json()] == [run_id]
    assert classroom.get(f"/api/runs/{run_id}/history").status_code == 200
    assert classroom.get("/api/models").status_code == 200
    r = classroom.post("/api/predict", files={"file": ("7.png", stroke_png(SEVEN), "image/png")})
    assert r.status_code == 200 and len(r.json()["activations"]) == 10
    with classroom.websocket_connect(f"/api/runs/{run_id}/live") as ws:
        assert ws.receive_json()["type"] == "status"
        ws.send_json({"type": "draw", "pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464})
        kinds = set()
        while "activations" not in kinds:
            kinds.add(ws.receive_json()["type"])
    stopped = classroom.post(f"/api/runs/{run_id}/stop", headers=bearer(TOKEN))
    assert stopped.status_code in (200, 409), "the teacher's token works for stopping too"


def test_an_explicit_token_applies_on_loopback_too(settings, mnist):
    with studio(settings, mnist, token=TOKEN) as c:
        assert c.post("/api/runs", json=TINY_RUN).status_code == 401
        assert c.post("/api/runs/r9/stop", headers=bearer(TOKEN)).status_code == 404, \
            "with the token the request reaches the handler"


def test_openapi_declares_the_bearer_scheme_on_changing_routes_only(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    secured = {(path, method) for path, ops in schema["paths"].items() for method, op in ops.items()
               if op.get("security")}
    assert ("/api/runs", "post") in secured and ("/api/runs/{run_id}/stop", "post") in secured
    assert not any(method == "get" for _, method in secured), "reading stays open"
    assert ("/api/predict", "post") not in secured


# ---- headers --------------------------------------------------------------------------------------
def csp_directives(value: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in value.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("method, path, kwargs", [
    ("GET", "/", {}), ("GET", "/lessons", {}), ("GET", "/lessons/downhill-1d", {}),
    ("GET", "/api/health", {}),
    ("GET", "/static/js/main.js", {}), ("GET", "/openapi.json", {}), ("GET", "/docs", {}),
    ("GET", "/api/runs/nope", {}), ("POST", "/api/predict", {"json": {"pixels": [1]}}),
    ("POST", "/api/runs", {"content": b"x" * (BODY_LIMIT + 1)})])
def test_every_response_carries_the_security_headers(client, method, path, kwargs):
    r = client.request(method, path, **kwargs)
    csp = csp_directives(r.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"], "scripts only from this server, never inline"
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("method, path, kwargs", [
    ("GET", "/api/health", {}), ("POST", "/api/predict", {"json": {"pixels": [1]}}), ("GET", "/", {})])
def test_answers_say_how_long_the_app_took(client, method, path, kwargs):
    """Server-Timing: app;dur=MS, what bench/bench_load.py tells apart from the time a request waited."""
    timing = client.request(method, path, **kwargs).headers["server-timing"]
    assert re.fullmatch(r"app;dur=\d+\.\d", timing), timing


class InlineScripts(HTMLParser):
    """Collect every inline script body and every on* event-handler attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        self.found += [f"<{tag} {k}=...>" for k, v in attrs if k.startswith("on")]
        self.found += [f"<{tag} {k}={v}>" for k, v in attrs
                       if v and v.strip().lower().startswith("javascript:")]
        self.in_script = tag == "script"
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("<script> without src")

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:60]}")


def inline_scripts(html: str) -> list[str]:
    parser = InlineScripts()
    parser.feed(html)
    return parser.found


def test_no_page_or_template_has_inline_scripts(client):
    assert inline_scripts('<p onclick="x()">a</p><script>alert(1)</script>') != [], "the check can fail"
    files = sorted((REPO / "templates").rglob("*.html")) + sorted((REPO / "static").rglob("*.html"))
    assert len(files) > 5
    for path in files:
        assert inline_scripts(path.read_text()) == [], path
    pages = ["/", "/docs", "/lessons"] + [f"/lessons/{lesson.slug}" for lesson in LESSONS]
    for page in pages:
        r = client.get(page)
        assert r.status_code == 200, page
        assert inline_scripts(r.text) == [], page


def test_cors_is_same_origin_unless_configured(client, settings, mnist):
    evil = {"Origin": "http://evil.example"}
    assert "access-control-allow-origin" not in client.get("/api/runs", headers=evil).headers
    pre = client.options("/api/runs", headers={**evil, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    with studio(settings, mnist, cors_origins=("http://projector.school.lan",)) as c:
        ok = c.get("/api/runs", headers={"Origin": "http://projector.school.lan"})
        assert ok.headers["access-control-allow-origin"] == "http://projector.school.lan"
        assert "access-control-allow-origin" not in c.get("/api/runs", headers=evil).headers


# ---- bounded bodies -------------------------------------------------------------------------------
def test_json_routes_refuse_big_bodies_by_their_declared_length(client):
    r = client.post("/api/runs", content=b'{"name": "' + b"a" * BODY_LIMIT + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "KB" in r.json()["detail"]


def test_chunked_bodies_are_cut_off_at_the_limit_not_read_whole():
    """Drive the middleware directly with a 50 MB chunked body and count what it pulled."""
    pulled, sent = [0], []
    chunk = b"\0" * 2**20

    async def receive():
        pulled[0] += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled[0] < 50}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):   # an app that reads the whole body, as any handler would
        while (await receive()).get("more_body"):
            pass

    scope = {"type": "http", "path": "/api/predict", "headers": [(b"transfer-encoding", b"chunked")]}
    asyncio.run(SecurityMiddleware(app, image_limit=7 * 2**20, docs_csp="")(scope, receive, send))
    assert sent[0]["status"] == 413 and pulled[0] == 8, "stopped just past 7 MB of the 50 sent"


EVIL_NAMES = ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd", "default/../default", "a\x00b",
              "default.npz", "CON", "x" * 41]


@pytest.mark.parametrize("evil", EVIL_NAMES)
def test_names_cannot_escape_their_folder(client, evil):
    r = client.post("/api/runs/r1/save", json={"name": evil})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"], r.text
    r = client.post("/api/predict", params={"model": evil}, json={"pixels": [1.0] * 784})
    assert r.status_code == 404 and "model" in r.json()["detail"], r.text


def test_the_serve_token_flag_guards_a_real_server():
    """`digit-studio serve --token` on a real uvicorn: refused without it, reaches the handler with it."""
    import urllib.error
    import urllib.request

    from tests.support.server import running_server

    def post(url: str, headers: dict[str, str]) -> tuple[int, str]:
        req = urllib.request.Request(url, data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    with running_server("--no-train", "--token", TOKEN) as url:
        status, text = post(f"{url}/api/runs/r404/stop", {})
        assert status == 401 and "teacher token" in text
        assert post(f"{url}/api/runs/r404/stop", bearer("nope"))[0] == 403
        assert post(f"{url}/api/runs/r404/stop", bearer(TOKEN))[0] == 404
        with urllib.request.urlopen(f"{url}/api/runs", timeout=5) as r:
            assert r.status == 200 and r.headers["X-Content-Type-Options"] == "nosniff"


# POSTs that only compute an answer from what they are sent; every other changing route needs the token.
READING_POSTS = {"/api/predict", "/api/lessons/example", "/api/lessons/gradient"}


def test_every_changing_route_needs_the_teacher_token(client):
    """A guard for routes added later (such as deleting runs or models): any POST, PUT, PATCH or
    DELETE that is not a pure computation must declare the bearer scheme."""
    schema = client.get("/openapi.json").json()
    changing = [(path, method) for path, ops in schema["paths"].items() for method in ops
                if method in ("post", "put", "patch", "delete") and path not in READING_POSTS]
    assert len(changing) >= 9
    unguarded = [(p, m) for p, m in changing if not schema["paths"][p][m].get("security")]
    assert unguarded == [], f"add dependencies=[Depends(teacher)] to {unguarded}"
