"""Watching a network learn, in real Chromium against the real server training on the real MNIST.

The studio's first run starts at a classroom pace: a page opened at once sees the accuracy climb
past 90% in plain view; Step takes exactly one mini-batch; the network picture answers the drawing;
every page follows the teacher's run; a run that stopped learning says so.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PROJECTOR, shot
from tests.browser.test_page import ONE, ZERO, draw
from tests.support.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LAPTOP = {"width": 1366, "height": 768}


def api(url: str, method: str = "GET", body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def server(browser: Browser) -> Iterator[tuple[str, float]]:
    """The real server with its default first run, and the moment it started serving (GET /api/health
    answers: what `make run` announces; chromium is already up, so its start-up does not count)."""
    with running_server() as url:
        yield url, time.monotonic()


def open_studio(pg: Page, url: str, query: str = "") -> str:
    pg.goto(f"{url}/{query}")
    pg.wait_for_function("document.body.dataset.live === 'open' && window.studio.state.runId", timeout=15_000)
    return pg.evaluate("window.studio.state.runId")


def accuracy_now(pg: Page) -> float | None:
    text = pg.text_content("#accuracy-now") or ""
    return float(text.rstrip("%")) if text.endswith("%") else None


def test_the_first_run_climbs_past_90_percent_in_plain_view(server, browser: Browser) -> None:
    url, started = server
    context = browser.new_context(bypass_csp=True, viewport=LAPTOP)
    pg = context.new_page()
    try:
        pg.goto(url)
        opened = time.monotonic() - started
        assert opened <= 5.0, f"the page only opened {opened:.1f} s after the server start"
        assert api(f"{url}/api/runs/r1")["pace"] == "classroom"
        readings: list[tuple[float, float]] = []
        while time.monotonic() - started < 100:     # the issue asks for one reading a second
            value = accuracy_now(pg)
            if value is not None:
                readings.append((time.monotonic() - started, value))
                if value >= 90:
                    break
            pg.wait_for_timeout(1000)
        assert readings, "#accuracy-now never showed an accuracy"
        first_t, first = readings[0]
        assert first < 50, f"the first accuracy seen was already {first}% at {first_t:.1f} s"
        passed = next((t for t, v in readings if v >= 90), None)
        assert passed is not None, f"the accuracy never passed 90% (last {readings[-1]})"
        assert 20 <= passed <= 90, f"it passed 90% {passed:.1f} s after the server start"
        xs, ys = pg.evaluate("window.studio.ui.charts.accuracyPoints()")
        under = [y for y in ys if y < 0.9]
        assert len(under) >= 30, f"the accuracy chart holds only {len(under)} points under 90%"
        assert xs == sorted(xs) and xs[0] <= 100, "the chart starts at the first examples seen"
        # At 1366x768 every plot area is at least 150 px tall.
        for chart in ("cost", "accuracy"):
            area = pg.evaluate(f"window.studio.ui.charts.{chart}.area()")
            assert area["height"] >= 150, f"the {chart} plot is {area['height']} px tall at 1366x768"
        shot(pg, "watch-laptop-climbed")
    finally:
        context.close()


def test_the_network_picture_lights_up_differently_for_another_digit(server, page: Page) -> None:
    url, _ = server
    open_studio(page, url)
    # The diagram is drawn from the first `network` message, which may come a moment after the socket
    # opens (right after a server start the first run may not have produced weights yet): wait for it.
    page.wait_for_function("document.querySelectorAll('#network-diagram [data-neuron]').length === 42",
                           timeout=20_000)
    counts = page.evaluate("""() => [1, 2, 3].map((l) =>
        document.querySelectorAll(`#network-diagram [data-layer="${l}"][data-neuron]`).length)""")
    assert counts == [16, 16, 10], f"neurons per layer: {counts}"
    colours = ("() => [...document.querySelectorAll('#network-diagram [data-neuron]')]"
               ".map(e => e.getAttribute('fill'))")
    draw(page, ONE)
    page.wait_for_function("[...document.querySelectorAll('#network-diagram [data-layer=\"1\"]')]"
                           ".some(e => e.dataset.activation !== '')", timeout=10_000)
    page.wait_for_function("document.querySelector('#predicted-digit').textContent !== ''", timeout=10_000)
    one = page.evaluate(colours)
    page.click("#clear-canvas")
    draw(page, ZERO)
    before = json.dumps(json.dumps(one, separators=(",", ":")))
    page.wait_for_function(f"JSON.stringify(({colours})()) !== {before}", timeout=10_000)
    zero = page.evaluate(colours)
    changed = sum(a != b for a, b in zip(one, zero, strict=True))
    assert changed >= 5, f"only {changed} of 42 neurons changed colour between a drawn 1 and 0"
    # Hover a first-layer neuron: its activation and its 28x28 map.
    page.hover('#network-diagram [data-layer="1"][data-neuron="3"]')
    page.wait_for_selector("#neuron-detail canvas:not([hidden])", timeout=10_000)
    assert "activation" in page.text_content("#neuron-detail .neuron-text")
    shot(page, "watch-network")


def test_step_on_a_paused_run_takes_exactly_one_batch(server, page: Page) -> None:
    url, _ = server
    run = api(f"{url}/api/runs", "POST", {"epochs": 5, "pace": 200, "name": "step test"})
    batch = run["config"]["batch_size"]
    open_studio(page, url)
    page.wait_for_function(f"window.studio.state.runId === '{run['id']}'", timeout=10_000)
    # Pause once it has trained a little (a run that has not taken its first step cannot be stepped).
    page.wait_for_function("window.studio.ui.charts.series.length > 0", timeout=20_000)
    page.click("#play-pause")
    page.wait_for_function("!document.querySelector('#step-run').disabled", timeout=10_000)
    page.click("#step-run")
    page.wait_for_selector("#step-result:not([hidden])", timeout=10_000)
    result = page.evaluate("window.studio.ui.step.last")
    assert result["steps"] == 1
    assert result["examples_seen"] == result["examples_seen_before"] + batch, result
    after = api(f"{url}/api/runs/{run['id']}")
    assert after["status"] == "paused"
    assert after["progress"]["examples_seen"] == result["examples_seen"], "it stays where the step left it"
    assert page.get_attribute("#step-result", "data-examples-seen") == str(result["examples_seen"])
    text = page.text_content("#step-result .step-text") or ""
    assert "before" in text and "after" in text, text
    maps = page.query_selector_all("#step-result .step-maps canvas")
    assert len(maps) == 16, "the weights' change, one map per first-layer neuron"
    shot(page, "watch-step")
    # A second step takes the next batch, from where the first one ended.
    page.click("#step-run")
    page.wait_for_function(f"window.studio.ui.step.last.examples_seen === {result['examples_seen'] + batch}",
                           timeout=10_000)
    assert api(f"{url}/api/runs/{run['id']}")["progress"]["examples_seen"] == result["examples_seen"] + batch
    api(f"{url}/api/runs/{run['id']}/stop", "POST")


def test_replay_shows_the_answer_of_the_network_as_it_was(server, page: Page) -> None:
    url, _ = server
    run_id = open_studio(page, url, "?run=r1")     # the first run, which has climbed by now
    page.wait_for_function("window.studio.timeline.snapshots.length >= 3", timeout=20_000)
    draw(page, ONE)
    page.wait_for_function("document.querySelector('#predicted-digit').textContent !== ''", timeout=10_000)
    page.evaluate("""() => { const t = document.querySelector('#timeline');
        t.value = '0'; t.dispatchEvent(new Event('input')); t.dispatchEvent(new Event('change')); }""")
    page.wait_for_function("window.studio.state.replay !== null", timeout=5_000)
    snapshot = page.evaluate("window.studio.state.replay")
    pixels = page.evaluate("Array.from(window.studio.state.pixels)")
    then = api(f"{url}/api/predict?run={run_id}&snapshot={snapshot['index']}", "POST", {"pixels": pixels})
    values = [f"{a:.2f}" for a in then["activations"]]
    shown = "[...document.querySelectorAll('#output-bars .value')].map(e => e.textContent)"
    expected = json.dumps(json.dumps(values, separators=(",", ":")))
    page.wait_for_function(f"JSON.stringify({shown}) === {expected}", timeout=10_000)
    assert page.text_content("#predicted-digit") == str(then["digit"])
    assert f"{snapshot['examples_seen']:,} examples" in page.text_content("#timeline-label")
    assert page.evaluate("window.studio.ui.charts.cursorX") == snapshot["examples_seen"]
    shot(page, "watch-replay")
    page.click("#timeline-live")
    page.wait_for_function("window.studio.state.replay === null", timeout=5_000)


def test_every_page_follows_the_teachers_new_run(server, browser: Browser) -> None:
    url, _ = server
    teacher, student, picker = (browser.new_context(bypass_csp=True, viewport=PROJECTOR) for _ in range(3))
    try:
        t, s, p = teacher.new_page(), student.new_page(), picker.new_page()
        first = open_studio(t, url)
        open_studio(s, url)
        open_studio(p, url, f"?run={first}")
        t.wait_for_function("!document.querySelector('#reset-run').disabled", timeout=10_000)
        clicked = time.monotonic()
        t.click("#reset-run")
        t.wait_for_function(f"window.studio.state.runId !== '{first}'", timeout=10_000)
        new = t.evaluate("window.studio.state.runId")
        s.wait_for_function(f"window.studio.state.runId === '{new}'", timeout=10_000)
        followed = time.monotonic() - clicked
        assert followed <= 2.0, f"the student's page followed the teacher after {followed:.1f} s"
        # A viewer who picked a run keeps it, and is offered to follow the teacher.
        p.wait_for_selector("#follow-teacher", state="visible", timeout=5_000)
        assert p.evaluate("window.studio.state.runId") == first
        p.click("#follow-teacher")
        p.wait_for_function(f"window.studio.state.runId === '{new}'", timeout=5_000)
        assert api(f"{url}/api/studio")["watched"] == new
        # The teacher picks the first run again in the Runs panel: every page follows.
        t.click("#run-panel summary")
        clicked = time.monotonic()
        t.select_option("#run-picker", first)
        for pg in (s, p):
            pg.wait_for_function(f"window.studio.state.runId === '{first}'", timeout=10_000)
        followed = time.monotonic() - clicked
        assert followed <= 2.0, f"the pages followed the teacher's pick after {followed:.1f} s"
        api(f"{url}/api/runs/{new}/stop", "POST")
    finally:
        for c in (teacher, student, picker):
            c.close()


def test_a_run_that_stopped_learning_is_flagged(server, page: Page) -> None:
    url, _ = server
    run = api(f"{url}/api/runs", "POST",
              {"activation": "relu", "cost": "cross_entropy", "learning_rate": 3, "name": "dead relu"})
    open_studio(page, url)
    page.wait_for_function(f"window.studio.state.runId === '{run['id']}'", timeout=10_000)
    page.wait_for_selector("#run-warning", state="visible", timeout=120_000)
    text = page.text_content("#run-warning")
    warning = api(f"{url}/api/runs/{run['id']}")["warning"]
    assert warning and warning["suggestion"] in text and "stopped learning" in text, text
    shot(page, "watch-stuck")
    api(f"{url}/api/runs/{run['id']}/stop", "POST")


def test_presentation_mode_fills_the_screen_in_large_type(server, page: Page) -> None:
    url, _ = server
    open_studio(page, url)
    page.keyboard.press("p")
    page.wait_for_function("document.body.classList.contains('presenting')", timeout=5_000)
    page.wait_for_function("window.studio.ui.charts.accuracy.fontPx >= 20", timeout=5_000)
    assert page.is_hidden("#watch-bar") and page.is_hidden("#run-panel")
    for sel in ("#draw-canvas", "#network-diagram", "#accuracy-chart", "#cost-chart"):
        assert page.is_visible(sel), f"{sel} is hidden in presentation mode"
    page.click("#presentation")
    page.wait_for_function("!document.body.classList.contains('presenting')", timeout=5_000)
    assert page.is_visible("#watch-bar")
