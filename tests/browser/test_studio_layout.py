"""Where the answer sits while a person draws, in real Chromium against the real server: on a 390x844
phone the big digit, its bars and the comparison column are on screen whenever the canvas is, with no
scrolling (the canvas takes no scrolling gestures, so a finger on it could not scroll to them); on a
1366x768 laptop and a 1920x1080 projector the drawing and its answer share the first screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PHONE, PROJECTOR, shot
from tests.browser.test_page import ONE, draw
from tests.browser.test_watch import LAPTOP, open_studio
from tests.support.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ANSWER = ("#predicted-digit", "#output-bars")
COMPARE = ("#compare-digit", "#compare-bars")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server() as url:
        yield url


def off_screen(pg: Page, selectors: tuple[str, ...]) -> list[str]:
    """Return the selectors whose box is not wholly inside the viewport (with the box, to say where)."""
    view = pg.viewport_size
    assert view
    out = []
    for sel in selectors:
        b = pg.locator(sel).bounding_box()
        if not b or b["x"] < 0 or b["y"] < 0 or b["x"] + b["width"] > view["width"] + 0.5 \
                or b["y"] + b["height"] > view["height"] + 0.5:
            out.append(f"{sel} at {b}")
    return out


def touch_draw(pg: Page, context, strokes) -> None:
    """Trace each stroke with a finger (touch events through CDP), as on a phone."""
    box = pg.locator("#draw-canvas").bounding_box()
    assert box
    cdp = context.new_cdp_session(pg)
    for stroke in strokes:
        pts = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke]
        for k, (x, y) in enumerate(pts):
            cdp.send("Input.dispatchTouchEvent",
                     {"type": "touchStart" if k == 0 else "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def answered(pg: Page) -> None:
    pg.wait_for_function("document.querySelector('#predicted-digit').textContent !== ''"
                         " && document.querySelector('#compare-digit').textContent !== ''", timeout=15_000)


def test_on_a_phone_the_answer_and_the_comparison_stay_on_screen_while_drawing(server: str,
                                                                               browser: Browser) -> None:
    context = browser.new_context(bypass_csp=True, viewport=PHONE, has_touch=True, is_mobile=True,
                                  device_scale_factor=2)
    pg = context.new_page()
    try:
        open_studio(pg, server)
        pg.wait_for_selector(".compare-answer", state="visible", timeout=10_000)
        # As the page opens: the whole canvas is on screen, and so is everything the drawing changes.
        assert off_screen(pg, ("#draw-canvas",)) == [], "the canvas is not on the first screen"
        touch_draw(pg, context, ONE)
        answered(pg)
        assert pg.evaluate("window.scrollY") == 0, "drawing scrolled the page"
        assert off_screen(pg, ANSWER + COMPARE) == [], "the answer is off screen while drawing"
        shot(pg, "studio-phone-answer")
        # Scrolled so the drawing panel starts at the top of the screen (e.g. back from the charts).
        pg.evaluate("document.querySelector('.panel.draw').scrollIntoView({block: 'start'})")
        top = "document.querySelector('.panel.draw').getBoundingClientRect().top"
        pg.wait_for_function(f"Math.abs({top}) < 1", timeout=5_000)
        assert off_screen(pg, ("#draw-canvas",) + ANSWER + COMPARE) == []
        # The training controls and the rest follow the drawing, and nothing scrolls sideways.
        assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for sel in ("#play-pause", "#pace", "#network-diagram", "#accuracy-chart"):
            assert pg.locator(sel).is_visible(), f"{sel} is missing on a phone"
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [LAPTOP, PROJECTOR], ids=["1366x768", "1920x1080"])
def test_on_a_laptop_and_a_projector_the_drawing_and_its_answer_share_the_first_screen(
        server: str, browser: Browser, viewport: dict) -> None:
    context = browser.new_context(bypass_csp=True, viewport=viewport)
    pg = context.new_page()
    try:
        open_studio(pg, server)
        draw(pg, ONE)
        answered(pg)
        assert pg.evaluate("window.scrollY") == 0
        # The main screen keeps its three columns: drawing, network, charts, side by side.
        assert off_screen(pg, ("#draw-canvas", "#network-diagram", "#accuracy-chart") + ANSWER) == []
        if viewport == PROJECTOR:
            assert off_screen(pg, COMPARE) == []
        canvas, net = pg.locator("#draw-canvas").bounding_box(), pg.locator("#network-diagram").bounding_box()
        assert canvas and net and net["x"] > canvas["x"] + canvas["width"], "the network is beside the canvas"
    finally:
        context.close()
