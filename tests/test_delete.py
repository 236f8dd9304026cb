"""Deleting runs and saved models (docs/api.md, "who may do what"): gone for good, also after a restart;
models saved from a deleted run stay; active runs and shipped models are refused; names are checked;
the teacher token guards both; a prediction racing a delete gets an answer or a 404, never a 500."""

from __future__ import annotations

import asyncio
import http.client
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from websockets.asyncio.client import connect

from app.server.checkpoints import Checkpoints
from app.server.main import create_app
from app.server.models import DELETED_SUFFIX, ModelRegistry
from app.server.runs import RunManager
from app.server.store import Store
from app.training.config import TrainConfig
from tests.support.server import REPO, running_server
from tests.support.wait import run_reaches, wait_until

pytestmark = pytest.mark.slow

TINY = {"hidden": [8], "train_subset": 300, "validation_size": 100, "epochs": 1}
LONG = {"hidden": [16], "epochs": 50}     # the full training set: it is stopped long before it ends
INK = {"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464}
TOKEN = "teacher-deletes-things"


@contextmanager
def api(url: str, token: str | None = None) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
        yield c


def finished_run(c: httpx.Client, **extra) -> str:
    """Start a tiny run, wait until it has finished, return its id."""
    r = c.post("/api/runs", json={**TINY, **extra})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    run = run_reaches(lambda i: c.get(f"/api/runs/{i}").json(), run_id,
                      lambda run: run["status"] not in ("queued", "running"))
    assert run["status"] == "finished", run
    return run_id


def rows(state: Path, sql: str, *args) -> list[tuple]:
    """Read the server's database (read-only, beside the running server: WAL allows it)."""
    db = sqlite3.connect(f"file:{state / 'state.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def run_ids(c: httpx.Client) -> list[str]:
    return [r["id"] for r in c.get("/api/runs").json()]


def model_names(c: httpx.Client) -> list[str]:
    return [m["name"] for m in c.get("/api/models").json()]


def test_a_deleted_run_is_gone_for_good_and_its_saved_model_stays(tmp_path: Path):
    state = tmp_path / "state"
    with running_server("--no-train", state_dir=state) as url, api(url) as c:
        kept, doomed = finished_run(c), finished_run(c)
        assert c.post(f"/api/runs/{doomed}/save", json={"name": "from-doomed"}).status_code == 201
        assert (state / "checkpoints" / f"{doomed}.npz").is_file()
        assert rows(state, "SELECT count(*) FROM metrics WHERE run_id = ?", doomed)[0][0] > 0

        r = c.delete(f"/api/runs/{doomed}")
        assert r.status_code == 204 and r.content == b"", r.text
        assert run_ids(c) == [kept]
        for path in ("", "/history", "/events"):
            assert c.get(f"/api/runs/{doomed}{path}").status_code == 404, path
        assert c.post("/api/predict", params={"run": doomed}, json=INK).status_code == 404
        assert c.delete(f"/api/runs/{doomed}").status_code == 404
        assert not (state / "checkpoints" / f"{doomed}.npz").exists()
        assert rows(state, "SELECT count(*) FROM metrics WHERE run_id = ?", doomed) == [(0,)]
        assert rows(state, "SELECT count(*) FROM runs WHERE id = ?", doomed) == [(0,)]
        # The model saved from it is its own file and answers as before.
        answer = c.post("/api/predict", params={"model": "from-doomed"}, json=INK)
        assert answer.status_code == 200 and answer.json()["model"]["name"] == "from-doomed", answer.text

    with running_server("--no-train", state_dir=state) as url, api(url) as c:
        assert run_ids(c) == [kept] and c.get(f"/api/runs/{doomed}").status_code == 404
        assert len(c.get(f"/api/runs/{kept}/history").json()["points"]) > 0
        assert "from-doomed" in model_names(c)
        assert c.post("/api/predict", params={"model": "from-doomed"}, json=INK).status_code == 200
        assert c.get("/api/health").json()["problems"] == []
        # The deleted run was the newest: its id is not handed out again.
        new = c.post("/api/runs", json=TINY).json()["id"]
        assert int(new[1:]) > int(doomed[1:]), (new, doomed)
        assert c.post(f"/api/runs/{new}/stop").status_code in (200, 409)


def test_a_deleted_model_is_gone_for_good_and_shipped_ones_cannot_be(tmp_path: Path):
    state = tmp_path / "state"
    with running_server("--no-train", state_dir=state) as url, api(url) as c:
        run_id = finished_run(c)
        for name in ("doomed", "keeper"):
            assert c.post(f"/api/runs/{run_id}/save", json={"name": name}).status_code == 201
        r = c.delete("/api/models/doomed")
        assert r.status_code == 204 and r.content == b"", r.text
        assert "doomed" not in model_names(c) and "keeper" in model_names(c)
        assert sorted(p.name for p in (state / "models").iterdir()) == ["keeper.npz"]  # no leftovers
        assert rows(state, "SELECT name FROM models") == [("keeper",)]
        missing = c.post("/api/predict", params={"model": "doomed"}, json=INK)
        assert missing.status_code == 404 and "doomed" in missing.json()["detail"]
        again = c.delete("/api/models/doomed")
        assert again.status_code == 404 and "keeper" in again.json()["detail"], again.text

        for shipped in ("default", "best"):   # models/*.npz of the repository, served by default
            r = c.delete(f"/api/models/{shipped}")
            assert r.status_code == 409 and "shipped" in r.json()["detail"], r.text
            assert (REPO / "models" / f"{shipped}.npz").is_file()
        assert c.post("/api/predict", json=INK).status_code == 200

    with running_server("--no-train", state_dir=state) as url, api(url) as c:
        assert "doomed" not in model_names(c) and {"keeper", "default", "best"} <= set(model_names(c))
        assert c.get("/api/health").json()["problems"] == []
        assert c.get(f"/api/runs/{run_id}").status_code == 200, "deleting a model leaves its run alone"


def raw_delete(url: str, path: str) -> int:
    """Send DELETE with the path exactly as written (no client-side '..' clean-up); return the status."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("DELETE", path)
        return conn.getresponse().status
    finally:
        conn.close()


TRAVERSAL = ["..", "%2e%2e", "..%2fdefault", "..%2F..%2Fmodels%2Fdefault", "../../models/default",
             "default.npz", "Default", ".default", "-x", "a" * 41, "%00default", "best%2f..%2fdefault",
             "%20best"]


def test_names_that_are_not_model_names_are_refused_and_delete_nothing(tmp_path: Path):
    state = tmp_path / "state"
    with running_server("--no-train", state_dir=state) as url, api(url) as c:
        run_id = finished_run(c)
        assert c.post(f"/api/runs/{run_id}/save", json={"name": "mine"}).status_code == 201
        before = sorted(model_names(c))
        for name in TRAVERSAL:
            status = raw_delete(url, f"/api/models/{name}")
            assert 400 <= status < 500, (name, status)
        assert raw_delete(url, "/api/runs/..%2F..%2Fstate.sqlite3") == 404
        assert sorted(model_names(c)) == before and (state / "models" / "mine.npz").is_file()
        assert (REPO / "models" / "default.npz").is_file() and (state / "state.sqlite3").is_file()


def test_deleting_needs_the_teacher_token_when_one_is_in_force(tmp_path: Path):
    with running_server("--no-train", "--token", TOKEN) as url, api(url) as anyone, \
            api(url, "guess") as wrong, api(url, TOKEN) as teacher:
        run_id = finished_run(teacher)
        assert teacher.post(f"/api/runs/{run_id}/save", json={"name": "lesson"}).status_code == 201
        for path in (f"/api/runs/{run_id}", "/api/models/lesson"):
            r = anyone.delete(path)
            assert r.status_code == 401 and "teacher token" in r.json()["detail"], r.text
            assert r.headers["www-authenticate"] == "Bearer"
            assert wrong.delete(path).status_code == 403
        assert run_ids(anyone) == [run_id] and "lesson" in model_names(anyone), "nothing was deleted"
        assert teacher.delete(f"/api/runs/{run_id}").status_code == 204
        assert teacher.delete("/api/models/lesson").status_code == 204
        assert run_ids(anyone) == [] and "lesson" not in model_names(anyone)


@pytest.fixture
def one_slot(settings, mnist) -> Iterator[TestClient]:
    """The app in-process with one training slot, so a second run waits in the queue."""
    with TestClient(create_app(settings, manager=RunManager(1, data_loader=lambda: mnist))) as c:
        yield c


def test_an_active_or_queued_run_cannot_be_deleted_until_stopped(one_slot):
    running = one_slot.post("/api/runs", json=LONG).json()["id"]
    queued = one_slot.post("/api/runs", json=LONG).json()
    assert queued["status"] == "queued"
    for run_id in (running, queued["id"]):
        r = one_slot.delete(f"/api/runs/{run_id}")
        assert r.status_code == 409 and "stop it first" in r.json()["detail"], r.text
    assert one_slot.post(f"/api/runs/{running}/pause").status_code == 200
    assert one_slot.delete(f"/api/runs/{running}").status_code == 409, "paused is still active"
    for run_id in (queued["id"], running):
        assert one_slot.post(f"/api/runs/{run_id}/stop").status_code == 200
    run_reaches(lambda i: one_slot.get(f"/api/runs/{i}").json(), running, lambda r: r["status"] == "stopped")
    for run_id in (running, queued["id"]):
        assert one_slot.delete(f"/api/runs/{run_id}").status_code == 204
    assert one_slot.get("/api/runs").json() == []


def test_predictions_racing_a_delete_get_an_answer_or_a_404(tmp_path: Path):
    with running_server("--no-train", state_dir=tmp_path / "state") as url, api(url) as c:
        run_id = finished_run(c)
        statuses: list[int] = []
        for round_ in range(5):
            name = f"race-{round_}"
            assert c.post(f"/api/runs/{run_id}/save", json={"name": name}).status_code == 201
            stop = threading.Event()
            answers: list[int] = []   # this round's

            def predict(name: str = name, stop: threading.Event = stop, answers: list[int] = answers) -> None:
                with api(url) as mine:
                    while not stop.is_set():
                        r = mine.post("/api/predict", params={"model": name}, json=INK)
                        answers.append(r.status_code)

            threads = [threading.Thread(target=predict) for _ in range(3)]
            for t in threads:
                t.start()
            # Delete while predictions are under way; go on until they get 404s.
            wait_until(lambda a=answers: a.count(200) >= 3, what="predictions with the model")
            assert c.delete(f"/api/models/{name}").status_code == 204
            after = len(answers)
            wait_until(lambda a=answers, n=after: a[n:].count(404) >= 3, what="predictions after the delete")
            stop.set()
            for t in threads:
                t.join(60)
            statuses.extend(answers)
        assert set(statuses) == {200, 404}, sorted(set(statuses))


def test_a_live_client_of_a_deleted_run_sees_its_end_and_new_ones_a_clean_close(tmp_path: Path):
    async def scenario(url: str) -> None:
        ws_url = url.replace("http", "ws")
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            run_id = (await c.post("/api/runs", json=TINY)).json()["id"]
            async with connect(f"{ws_url}/api/runs/{run_id}/live") as ws:
                status = None
                while status != "finished":   # the watcher sees the run end
                    message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if message["type"] == "status":
                        status = message["run"]["status"]
                assert (await c.delete(f"/api/runs/{run_id}")).status_code == 204
                # Still connected: a drawing is answered from the run's final weights.
                await ws.send(json.dumps({"type": "draw", **INK}))
                while (message := json.loads(await asyncio.wait_for(ws.recv(), 10)))["type"] != "activations":
                    assert message["type"] != "error", message
                assert len(message["layers"][-1]) == 10
            async with connect(f"{ws_url}/api/runs/{run_id}/live") as ws:
                assert json.loads(await ws.recv())["type"] == "error"
                await ws.wait_closed()
                assert ws.close_code == 4404
            assert (await c.get(f"/api/runs/{run_id}/events")).status_code == 404
            assert (await c.get("/api/health")).status_code == 200

    with running_server("--no-train", state_dir=tmp_path / "state") as url:
        asyncio.run(scenario(url))


# A delete cut short by a crash is finished at the next start ------------------------------------------
def test_a_delete_cut_short_is_finished_at_the_next_start(tmp_path: Path, small_model_dir: Path, mnist):
    state = tmp_path / "state"
    store = Store(state)
    store.save_run("r7", "crashed", "finished", None, {}, "2026-01-01T00:00:00+00:00")
    store.delete_run("r7", "2026-01-01T00:00:01+00:00")         # the rows went ...
    registry = ModelRegistry(small_model_dir, state / "models")
    registry.attach(store)
    registry.save("halfway", registry.get("default").net, {"name": "halfway"})
    # ... then the server died: r7's checkpoint is still there, and the model's file was renamed
    # away (the first step of its delete) but its row was not dropped yet.
    Checkpoints(state / "checkpoints").path("r7").write_bytes((small_model_dir / "default.npz").read_bytes())
    (state / "models" / "halfway.npz").replace(state / "models" / f".halfway.npz.0a1b{DELETED_SUFFIX}")
    store.close()

    manager = RunManager(1, data_loader=lambda: mnist, state_dir=state)
    try:
        assert not (state / "checkpoints" / "r7.npz").exists() and manager.list() == []
        assert manager.create(TrainConfig(**TINY)).id == "r8", "a deleted run's id is not handed out again"
        again, store = ModelRegistry(small_model_dir, state / "models"), manager.store
        assert store is not None
        again.attach(store)
        assert "halfway" not in store.models()
        assert again.problems() == [] and list((state / "models").iterdir()) == []
    finally:
        manager.shutdown()


def test_a_checkpoint_written_after_its_run_was_deleted_is_not_kept(tmp_path: Path, small_model_dir: Path):
    from app.training.trainer import Progress

    checkpoints = Checkpoints(tmp_path)
    net = ModelRegistry(small_model_dir, tmp_path / "none").get("default").net
    progress = Progress(step=5, epoch=0.5, examples_seen=50, batch_cost=0.1, learning_rate=1.0,
                        examples_per_second=1.0, train_seconds=1.0, snapshot=net)
    assert checkpoints.write("r1", progress, {}, {})
    assert checkpoints.delete("r1") and not checkpoints.path("r1").exists()
    assert not checkpoints.write("r1", progress, {}, {}), "a late pause checkpoint must not bring it back"
    assert not checkpoints.path("r1").exists()


@pytest.mark.browser
def test_the_page_deletes_the_watched_run_after_asking(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PROJECTOR

    with running_server("--no-train", state_dir=tmp_path / "state") as url, api(url) as c, \
            sync_playwright() as p:
        older, newer = finished_run(c, name="older"), finished_run(c, name="to delete")
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=PROJECTOR).new_page()   # with the page's own CSP
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/")
        page.click("#run-panel summary")
        page.locator("#run-status .state", has_text="finished").wait_for()
        assert page.evaluate("window.studio.state.runId") == newer and page.is_enabled("#delete-run")
        questions: list[str] = []

        def answer(dialog, accept: bool) -> None:
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", lambda d: answer(d, False))   # "Cancel" deletes nothing
        page.click("#delete-run")
        assert run_ids(c) == [newer, older] and newer in questions[0] and "saved" in questions[0]
        page.once("dialog", lambda d: answer(d, True))
        page.click("#delete-run")
        page.locator("#run-message", has_text=f"Run {newer} deleted.").wait_for()
        assert run_ids(c) == [older]
        wait_until(lambda: page.evaluate("window.studio.state.runId"), lambda run_id: run_id == older,
                   what="the page to watch the run that is left")
        assert page.locator("#run-picker option").all_inner_texts() == [f"{older} · older · finished"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#run-panel").screenshot(path=str(ARTIFACTS / "delete-run.png"))

        # A saved model, answering on the page, deleted from the Runs panel: only saved ones are offered.
        assert page.is_disabled("#delete-model"), "nothing saved yet: nothing to delete"
        c.post(f"/api/runs/{older}/save", json={"name": "lesson-one"}).raise_for_status()
        page.goto(f"{url}/?model=lesson-one")
        page.click("#run-panel summary")
        page.wait_for_function("!document.querySelector('#delete-model').disabled")
        assert page.locator("#saved-model-picker option").all_inner_texts() == ["lesson-one"]
        page.once("dialog", lambda d: answer(d, True))
        page.click("#delete-model")
        page.locator("#run-message", has_text='Model "lesson-one" deleted.').wait_for()
        assert "lesson-one" not in model_names(c) and "default" in model_names(c)
        assert page.is_disabled("#delete-model") and "lesson-one" in questions[-1]
        page.wait_for_function("!location.search.includes('model=')")   # the run answers again
        assert page.locator("#model-picker option", has_text="lesson-one").count() == 0
        page.locator("#run-panel").screenshot(path=str(ARTIFACTS / "delete-model.png"))
        browser.close()
        assert errors == []
