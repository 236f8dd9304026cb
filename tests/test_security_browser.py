"""The teacher token and the Content-Security-Policy in real Chromium against a real server.

A student (no token) can watch and draw but gets a clear message when pressing Pause; the teacher types
the token into the run panel and Pause works. No page (studio, a lesson, /docs) breaks a CSP rule.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PROJECTOR, browser, shot  # noqa: F401  (the browser fixture)
from tests.browser.test_page import ONE, draw
from tests.support.server import running_server
from tests.support.wait import DEADLINE, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOKEN = "room-12-teacher"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real server with the token set as a teacher would, training the video's network (for 500
    epochs: the default 30 can be over in 15 s, before the student reaches for Pause)."""
    with running_server("--no-train", env={"DIGIT_STUDIO_TOKEN": TOKEN}) as url:
        request = urllib.request.Request(f"{url}/api/runs", method="POST", data=b'{"epochs": 500}', headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        urllib.request.urlopen(request, timeout=10).close()
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    """A page that keeps the CSP (unlike tests/browser's, which bypass it for wait_for_function)
    and fails the test on any JavaScript error or CSP violation."""
    context = browser.new_context(viewport=PROJECTOR)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors or CSP violations on the page: {errors}"


def until(pg: Page, expression: str, timeout: float = DEADLINE) -> None:
    """Wait until `expression` is true in the page. Polls with evaluate(): Playwright's own
    wait_for_function re-checks with eval(), which this CSP refuses."""
    wait_until(lambda: pg.evaluate(expression), timeout=timeout, what=expression)


def open_studio(pg: Page, url: str) -> str:
    pg.goto(f"{url}/")
    until(pg, "document.body.dataset.live === 'open'", 15)
    return pg.evaluate("window.studio.state.runId")


def run_status(url: str, run_id: str) -> str:
    with urllib.request.urlopen(f"{url}/api/runs/{run_id}", timeout=5) as response:
        return json.load(response)["status"]


def wait_status(url: str, run_id: str, status: str, timeout: float = DEADLINE) -> None:
    wait_until(lambda: run_status(url, run_id), lambda s: s == status, timeout, what=f"run {run_id} {status}")


def test_a_student_watches_and_draws_but_only_the_teacher_pauses(server: str, page: Page) -> None:  # noqa: F811
    run_id = open_studio(page, server)
    wait_status(server, run_id, "running", timeout=30)
    draw(page, [ONE[0]])
    until(page, "document.querySelector('#predicted-digit').textContent !== ''")
    page.click("#run-panel summary")
    page.click("[data-action=pause]")
    until(page, "document.querySelector('#run-message').textContent.includes('teacher token')")
    assert run_status(server, run_id) == "running", "the student's Pause did nothing"
    shot(page, "security-student-refused")

    page.fill("#teacher-token", TOKEN)
    page.dispatch_event("#teacher-token", "change")
    page.click("[data-action=pause]")
    wait_status(server, run_id, "paused")
    assert page.evaluate("sessionStorage.getItem('digit-studio-teacher-token')") == TOKEN
    page.reload()
    open_studio(page, server)
    assert page.input_value("#teacher-token") == TOKEN, "kept for this tab"
    page.click("#run-panel summary")
    page.click("[data-action=resume]")
    wait_status(server, run_id, "running")


def test_docs_and_lessons_run_under_the_csp(server: str, page: Page) -> None:  # noqa: F811
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 10, "Swagger UI lists the operations"
    shot(page, "security-docs")
    page.goto(f"{server}/lessons/downhill-1d")
    page.wait_for_load_state("networkidle")
    until(page, "document.querySelector('main, body').textContent.length > 100")
