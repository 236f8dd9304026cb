"""The studio page in real Chromium against the real server training on the real MNIST.

Draws digits with mouse (and touch) strokes the way a person would, and checks what the page shows:
the answer, the live cost chart, the weight heatmaps, the phone layout, reconnecting after a restart.
Screenshots go to artifacts/ (gitignored) so a person can look at what the test saw.
"""

from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PHONE, PROJECTOR, shot
from tests.support.canvas import draw_strokes as draw  # also imported from here by other page tests
from tests.support.server import free_port, running_server, serve
from tests.support.wait import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# Strokes in canvas fractions (0..1): a slightly slanted "1" and an oval "0", as people draw them.
ONE = [[(0.52 + 0.002 * i, 0.14 + 0.036 * i) for i in range(21)]]
ZERO = [[(0.5 + 0.22 * math.sin(2 * math.pi * i / 40), 0.5 - 0.32 * math.cos(2 * math.pi * i / 40))
         for i in range(42)]]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def post_json(url: str, body: dict):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server() as url:
        yield url


def wait_trained(url: str, run_id: str, accuracy: float = 0.85) -> None:
    """Wait until the run's test accuracy reaches `accuracy`, so its answers mean something."""
    wait_until(lambda: get_json(f"{url}/api/runs/{run_id}")["metrics"] or {},
               lambda metrics: (metrics.get("test_accuracy") or 0) >= accuracy,
               what=f"run {run_id} to reach {accuracy:.0%} test accuracy")


def open_studio(pg: Page, url: str, query: str = "") -> str:
    """Load the page, wait for the live channel, and return the id of the run it watches."""
    pg.goto(f"{url}/{query}")
    pg.wait_for_function("document.body.dataset.live === 'open'", timeout=15_000)
    return pg.evaluate("window.studio.state.runId")


def heatmap_pixels(pg: Page) -> list[str]:
    return pg.eval_on_selector_all("#weight-heatmaps canvas", "cs => cs.map(c => c.toDataURL())")


def test_drawn_digits_are_recognised_by_the_run_being_watched(server: str, page: Page) -> None:
    run_id = open_studio(page, server)
    default = [r["id"] for r in get_json(f"{server}/api/runs") if r["name"] == "default"]
    assert [run_id] == default, "the run the server started is watched"
    wait_trained(server, run_id)
    assert page.text_content("#predicted-digit") == "", "no answer before anything is drawn"
    for digit, strokes in (("1", ONE), ("0", ZERO)):
        page.click("#clear-canvas")
        draw(page, strokes)
        page.wait_for_function(f"document.querySelector('#predicted-digit').textContent === '{digit}'",
                               timeout=10_000)
        winner = page.get_attribute("#output-bars li.win", "data-digit")
        assert winner == digit, f"bar {winner} is highlighted, not {digit}"
        ink = page.evaluate("""() => { const c = document.querySelector('#input-preview');
            const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
            let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s / 255; }""")
        assert 30 < ink < 250, f"the 28x28 preview of a drawn {digit} holds {ink:.0f} pixels of ink"
        shot(page, f"studio-drew-{digit}")
    page.click("#clear-canvas")
    page.wait_for_function("document.querySelector('#predicted-digit').textContent === ''", timeout=5_000)


def test_a_run_started_from_the_form_fills_the_chart_and_changes_the_weights(server: str, page: Page) -> None:
    first = open_studio(page, server)
    page.click("#run-panel summary")
    page.fill("#run-form [name=epochs]", "10")
    page.fill("#run-form [name=learning_rate]", "2")
    page.fill("#run-form [name=name]", "browser test")
    page.click("#run-form button[type=submit]")
    # The new run becomes the teacher's watched run, and the page follows it (no ?run= of its own).
    page.wait_for_function(f"window.studio.state.runId && window.studio.state.runId !== '{first}'",
                           timeout=10_000)
    run_id = page.evaluate("window.studio.state.runId")
    page.wait_for_function(
        f"document.body.dataset.live === 'open' && window.studio.state.runId === '{run_id}'", timeout=10_000)
    assert get_json(f"{server}/api/studio")["watched"] == run_id
    assert "run=" not in page.url
    assert get_json(f"{server}/api/runs/{run_id}")["config"]["epochs"] == 10
    page.wait_for_function("Number(document.querySelector('#cost-chart').dataset.points) > 0", timeout=15_000)
    before_points = int(page.get_attribute("#cost-chart", "data-points"))
    page.wait_for_function("document.querySelector('#weight-heatmaps').dataset.step", timeout=10_000)
    before = heatmap_pixels(page)
    before_step = page.get_attribute("#weight-heatmaps", "data-step")
    assert len(before) == 16, "one canvas per streamed neuron"
    page.wait_for_function(f"Number(document.querySelector('#cost-chart').dataset.points) > {before_points}",
                           timeout=15_000)
    # The heatmaps write the step of the weights they show once they have painted them.
    page.wait_for_function(f"document.querySelector('#weight-heatmaps').dataset.step !== '{before_step}'",
                           timeout=15_000)
    assert heatmap_pixels(page) != before, "the weight heatmaps change while the run trains"
    assert "epoch" in page.text_content("#run-status")
    shot(page, "studio-new-run")
    for button, state in (("pause", "paused"), ("resume", "running"), ("stop", "stopped")):
        page.click(f"#run-panel [data-action={button}]")
        page.wait_for_function(f"document.querySelector('#run-status .state').textContent === '{state}'",
                               timeout=10_000)
        assert get_json(f"{server}/api/runs/{run_id}")["status"] == state
        # The answer panel's label follows at once, not at the next poll of the run list.
        label = "learning now" if state == "running" else state
        assert page.text_content("#watched-label") == f"run {run_id}: {label}"
    assert page.is_disabled("#run-panel [data-action=pause]"), "a stopped run cannot be paused"


def test_a_saved_model_answers_when_the_url_names_it(server: str, page: Page) -> None:
    run_id = get_json(f"{server}/api/runs")[-1]["id"]
    wait_trained(server, run_id)
    post_json(f"{server}/api/runs/{run_id}/save", {"name": "classroom"})
    open_studio(page, server, "?model=classroom")
    assert page.input_value("#model-picker") == "classroom"
    draw(page, ONE)
    page.wait_for_function("document.querySelector('#predicted-digit').textContent !== ''", timeout=10_000)
    # The answer shown is the saved model's answer to this very drawing (the run it came from keeps
    # training and may answer differently; how well a network reads digits is tested elsewhere).
    pixels = page.evaluate("Array.from(window.studio.state.pixels)")
    expected = post_json(f"{server}/api/predict?model=classroom", {"pixels": pixels})["digit"]
    page.wait_for_function(f"document.querySelector('#predicted-digit').textContent === '{expected}'",
                           timeout=10_000)
    assert "classroom" in page.text_content("#watched-label")
    page.select_option("#model-picker", "")
    page.wait_for_function("!location.search.includes('model=')", timeout=5_000)


def test_phone_layout_is_one_column_and_touch_drawing_does_not_scroll(server: str, browser: Browser) -> None:
    context = browser.new_context(bypass_csp=True, viewport=PHONE, has_touch=True, is_mobile=True,
                                  device_scale_factor=2)
    pg = context.new_page()
    try:
        open_studio(pg, server)
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width} px wide)"
        box = pg.locator("#draw-canvas").bounding_box()
        assert box["width"] >= 300, f"the canvas is only {box['width']:.0f} px wide on a phone"
        cdp = context.new_cdp_session(pg)
        pts = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in ONE[0]]
        for k, (x, y) in enumerate(pts):
            kind = "touchStart" if k == 0 else "touchMove"
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        assert pg.evaluate("window.scrollY") == 0, "drawing scrolled the page"
        pg.wait_for_function("document.querySelector('#predicted-digit').textContent !== ''", timeout=10_000)
        assert pg.evaluate("window.studio.state.pixels !== null")
        shot(pg, "studio-phone")
    finally:
        context.close()


@contextmanager
def server_on(port: int, state_dir: Path, crash: bool = False) -> Iterator[str]:
    """Run `digit-studio serve` on a given port (so it can be restarted on the same address);
    crash=True ends it with SIGKILL, as a power cut or a lost network would."""
    log = state_dir / f"server-{'crashed' if crash else 'restarted'}.log"
    with serve(state_dir, log=log, port=port) as server:
        yield server.url
        if crash:
            server.proc.kill()
            server.proc.wait(timeout=5)


def test_the_page_says_it_is_reconnecting_and_recovers_after_a_restart(browser: Browser,
                                                                       tmp_path: Path) -> None:
    port = free_port()
    context = browser.new_context(bypass_csp=True, viewport=PROJECTOR)
    pg = context.new_page()
    try:
        with server_on(port, tmp_path, crash=True) as url:
            open_studio(pg, url)
            assert pg.is_hidden("#live-banner")
        pg.wait_for_selector("#live-banner", state="visible", timeout=10_000)
        assert "reconnecting" in pg.text_content("#live-banner").lower()
        shot(pg, "studio-reconnecting")
        with server_on(port, tmp_path):
            pg.wait_for_function("document.body.dataset.live === 'open'", timeout=20_000)
            assert pg.is_hidden("#live-banner")
            # The status line speaks of the new server's run: r1 was interrupted by the kill and is kept
            # (ids are never reused), so the default run of the new start is r2.
            pg.wait_for_function("document.querySelector('#run-status .part')?.textContent.includes('r2')",
                                 timeout=10_000)
            context.close()   # before the server stops, so it need not wait for the socket to close
    finally:
        context.close()
