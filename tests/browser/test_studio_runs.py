"""The studio's Runs panel in real Chromium against the real server: a save name the server would
refuse is explained in words, saving over a saved model asks first (and the server refuses to replace
one unasked), the Watch-run list says each run's status as it changes, and every message appears
beside the buttons that caused it."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import shot
from tests.browser.test_page import ONE, draw
from tests.browser.test_watch import api, open_studio
from tests.support.server import running_server
from tests.support.wait import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHORT = {"hidden": [20], "epochs": 1, "train_subset": 500, "validation_size": 0, "pace": "full",
         "name": "short", "watch": False}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server() as url:
        yield url


def save(url: str, run_id: str, name: str, query: str = "") -> tuple[int, dict]:
    try:
        return 201, api(f"{url}/api/runs/{run_id}/save{query}", "POST", {"name": name})
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def model_sizes(url: str, name: str) -> list[int] | None:
    return next((m["sizes"] for m in api(f"{url}/api/models") if m["name"] == name), None)


def gap(pg: Page, button: str, message: str) -> float:
    """Return how far (px) the message's box is from the button's box (0 when they touch)."""
    b, m = pg.locator(button).bounding_box(), pg.locator(message).bounding_box()
    assert b and m, f"{button} or {message} is not on screen"
    dx = max(m["x"] - (b["x"] + b["width"]), b["x"] - (m["x"] + m["width"]), 0)
    dy = max(m["y"] - (b["y"] + b["height"]), b["y"] - (m["y"] + m["height"]), 0)
    return max(dx, dy)


def message_says(pg: Page, text: str) -> str:
    pg.wait_for_function(f"document.querySelector('#run-message').textContent.includes({json.dumps(text)})",
                         timeout=20_000)
    return pg.text_content("#run-message") or ""


def test_a_bad_save_name_is_explained_in_words_beside_the_button(server: str, page: Page) -> None:
    open_studio(page, server)
    page.click("#run-panel summary")
    page.fill("#save-name", "My Model!")
    page.click("#save-run")
    text = message_says(page, "lower-case letters")
    assert "My Model!" in text and "starting with a letter or a digit" in text, text
    assert "^" not in text and "{0,39}" not in text, f"the raw pattern is shown: {text}"
    assert gap(page, "#save-run", "#run-message") <= 40, "the message is far from the Save button"
    shot(page, "studio-runs-bad-name")


def test_saving_over_a_saved_model_asks_first_and_the_server_refuses_unasked(server: str, page: Page) -> None:
    short = api(f"{server}/api/runs", "POST", SHORT)
    wait_until(lambda: api(f"{server}/api/runs/{short['id']}")["status"], lambda s: s == "finished",
               what="the short run to finish")
    assert save(server, short["id"], "kept")[0] == 201
    assert model_sizes(server, "kept") == [784, 20, 10]
    # The studio's first run (784-16-16-10) is watched; it needs weights before it can be saved.
    wait_until(lambda: api(f"{server}/api/runs/r1")["metrics"], what="r1's first weights")
    status, body = save(server, "r1", "kept")
    assert status == 409 and "already saved" in body["detail"], (status, body)
    assert model_sizes(server, "kept") == [784, 20, 10], "a refused save changed nothing"

    open_studio(page, server)
    page.click("#run-panel summary")
    page.wait_for_function("window.studio.state.models.some((m) => m.name === 'kept')", timeout=10_000)
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.fill("#save-name", "kept")
    page.click("#save-run")
    text = message_says(page, "Not saved")
    assert asked and "already saved" in asked[0], asked
    assert model_sizes(server, "kept") == [784, 20, 10], "saying no kept the old model"
    assert gap(page, "#save-run", "#run-message") <= 40
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("#save-run")
    text = message_says(page, "Saved as")
    assert len(asked) == 2 and "kept" in text, (asked, text)
    assert model_sizes(server, "kept") == [784, 16, 16, 10], "saying yes replaced it with the watched run"
    assert save(server, "r1", "kept", "?overwrite=true")[0] == 201, "the API replaces when asked"
    shot(page, "studio-runs-saved-over")


def option_text(pg: Page, run_id: str) -> str:
    return pg.evaluate(f"document.querySelector('#run-picker option[value=\"{run_id}\"]')?.textContent ?? ''")


def test_the_watch_list_says_each_runs_status_as_it_changes(server: str, page: Page) -> None:
    open_studio(page, server)
    run = api(f"{server}/api/runs", "POST", {"epochs": 5, "pace": 100, "name": "listed"})
    page.wait_for_function(f"window.studio.state.runId === '{run['id']}'", timeout=10_000)
    page.click("#run-panel summary")
    page.wait_for_function("!document.querySelector('#run-panel [data-action=pause]').disabled",
                           timeout=20_000)
    selector = f"#run-picker option[value=\"{run['id']}\"]"
    for button, status in (("pause", "paused"), ("resume", "running"), ("stop", "stopped")):
        page.click(f"#run-panel [data-action={button}]")
        page.wait_for_function(f"document.querySelector('{selector}')?.textContent.endsWith('{status}')",
                               timeout=10_000)
        assert api(f"{server}/api/runs/{run['id']}")["status"] == status
    # A run this page does not watch ends on its own: the list says so too.
    short = api(f"{server}/api/runs", "POST", {**SHORT, "name": "ends by itself"})
    page.wait_for_function(f"document.querySelector('#run-picker option[value=\"{short['id']}\"]')"
                           "?.textContent.endsWith('finished')", timeout=60_000)
    assert api(f"{server}/api/runs/{short['id']}")["status"] == "finished"
    assert option_text(page, run["id"]).endswith("stopped")
    shot(page, "studio-runs-list")


def test_a_refused_action_is_said_beside_its_button(server: str, page: Page) -> None:
    open_studio(page, server)
    page.click("#run-panel summary")
    page.fill("#run-form [name=hidden]", "16,0")     # a layer of no neurons: refused, in words
    page.click("#run-form button[type=submit]")
    page.wait_for_function("document.querySelector('#form-message').textContent !== ''", timeout=10_000)
    assert "Hidden layers" in (page.text_content("#form-message") or "")
    assert gap(page, "#run-form button[type=submit]", "#form-message") <= 40
    assert page.text_content("#run-message") == "", "one message at a time, beside its button"


def test_a_network_that_learned_nothing_answers_a_question_mark_not_zero(server: str, page: Page) -> None:
    """At the largest learning rate the video's network saturates: its ten outputs are all alike. The
    page then shows no digit ("?", with the server's plain-words note), never argmax's 0."""
    stuck = {"learning_rate": 100.0, "epochs": 1, "train_subset": 20_000, "validation_size": 0,
             "pace": "full", "name": "stuck", "watch": False}
    run = api(f"{server}/api/runs", "POST", stuck)
    wait_until(lambda: api(f"{server}/api/runs/{run['id']}")["status"], "finished".__eq__, timeout=120,
               what="the stuck run to end")
    open_studio(page, server, f"?run={run['id']}")
    draw(page, ONE)
    page.wait_for_function("document.querySelector('#predicted-digit').textContent === '?'", timeout=20_000)
    assert "untrained" in (page.get_attribute("#predicted-digit", "title") or "")
    assert page.locator("#output-bars li.win").count() == 0, "no bar wins"
