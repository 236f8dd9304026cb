"""Every lesson page in real Chromium against a real server (`digit-studio serve --no-train`).

Each test loads a lesson, works its widget with the mouse the way a teacher would (click a curve,
step through examples, draw a digit), checks that the widget answered and that the URL now holds the
settings, and saves a screenshot to artifacts/lesson-*.png. A phone-sized pass checks that no page
is wider than the phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.nn.network import Network
from app.training.modelfile import save_model
from tests.browser.conftest import PHONE, shot
from tests.support.canvas import draw_strokes
from tests.support.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLUGS = ["cost-of-one-example", "downhill-1d", "downhill-2d", "which-nudges-matter", "random-noise",
         "random-labels", "many-valleys", "hidden-neurons", "mistakes"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("lesson-state")
    # An untrained saved model is enough to drive the widgets; the lessons' numbers are tested elsewhere.
    save_model(Path(state) / "models" / "lesson-net.npz", Network([784, 16, 16, 10], seed=2), {})
    with running_server("--no-train", state_dir=state) as url:
        yield url


def click_at(pg: Page, selector: str, fx: float, fy: float) -> None:
    """Click at a fraction (fx, fy) of an element's box."""
    box = pg.locator(selector).bounding_box()
    assert box is not None
    pg.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def test_index_links_every_lesson(page: Page, server: str):
    page.goto(f"{server}/lessons")
    for slug in SLUGS:
        expect(page.locator(f'a[href="/lessons/{slug}"]')).to_be_visible()
    shot(page, "lesson-index")


def test_cost_of_one_example(page: Page, server: str):
    page.goto(f"{server}/lessons/cost-of-one-example?model=lesson-net&index=4")
    expect(page.locator("#cost-table tbody tr[data-digit]")).to_have_count(10)
    expect(page.locator("#example-cost")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    expect(page.locator("#test-cost")).to_have_text(re.compile(r"^\d+\.\d{3}$"), timeout=15_000)
    label_4 = page.locator("#example-label").inner_text()
    page.click("#next-example")
    expect(page).to_have_url(re.compile(r"index=5"))
    expect(page.locator("#cost-table tr.wanted")).to_have_count(1)
    assert page.locator("#example-index").input_value() == "5"
    shot(page, "lesson-1-cost")
    # draw a "1" and call it a 1: the wanted row follows the chosen label
    page.click("#mode-draw")
    page.select_option("#drawn-label", "1")
    draw_strokes(page, [[(0.5, 0.15 + 0.05 * i) for i in range(15)]], steps=1)
    expect(page.locator('#cost-table tr.wanted[data-digit="1"]')).to_have_count(1)
    expect(page).to_have_url(re.compile(r"mode=draw"))
    assert label_4 in "0123456789"
    shot(page, "lesson-1-cost-drawn")


def test_downhill_1d(page: Page, server: str):
    page.goto(f"{server}/lessons/downhill-1d?lr=0.08")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    click_at(page, "#plot-1d", 0.1, 0.5)
    expect(page.locator("body")).to_have_attribute("data-balls", "1")
    expect(page.locator("#ball-outcome")).to_have_text("settled in a valley", timeout=10_000)
    expect(page).to_have_url(re.compile(r"x=-\d"))
    page.wait_for_timeout(600)   # let the ball roll on screen
    shot(page, "lesson-2-downhill-1d")
    # the URL restores the ball, and a huge rate diverges
    page.goto(page.url.replace("lr=0.08", "lr=2.5"))
    expect(page.locator("body")).to_have_attribute("data-balls", "1")
    expect(page.locator("#ball-outcome")).to_have_text(re.compile("diverged|bouncing"))


def test_downhill_2d(page: Page, server: str):
    page.goto(f"{server}/lessons/downhill-2d")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    box = page.locator("#plot-2d").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 0.3 * box["height"])
    expect(page.locator("#at-gradient")).to_have_text(re.compile(r"^\(-?\d"))
    expect(page.locator("#at-importance")).to_contain_text("matters")
    click_at(page, "#plot-2d", 0.15, 0.85)
    expect(page.locator("body")).to_have_attribute("data-paths", "1")
    expect(page.locator("#path-outcome")).to_have_text("settled in a valley")
    expect(page).to_have_url(re.compile(r"starts=-\d"))
    shot(page, "lesson-3-downhill-2d")


def test_which_nudges_matter(page: Page, server: str):
    page.goto(f"{server}/lessons/which-nudges-matter?model=lesson-net&index=2")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    expect(page.locator("#gradient-maps canvas")).to_have_count(16)
    expect(page.locator("#gradient-column li").first).to_be_visible()
    page.click("#apply-step")
    expect(page.locator("#step-result")).to_contain_text("before →")
    page.click("#next-example")
    expect(page.locator("body")).to_have_attribute("data-loaded", "2")
    expect(page).to_have_url(re.compile(r"index=3"))
    shot(page, "lesson-4-nudges")


def test_random_noise(page: Page, server: str):
    page.goto(f"{server}/lessons/random-noise?model=lesson-net")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    expect(page.locator("#predicted-digit")).to_have_text(re.compile(r"^\d$"))
    page.click("#new-noise")
    expect(page.locator("#noise-seed")).to_have_text("1")
    expect(page).to_have_url(re.compile(r"seed=1"))
    page.select_option("#noise-kind", "blank")
    expect(page).to_have_url(re.compile(r"kind=blank"))
    expect(page.locator("#new-noise")).to_be_disabled()
    shot(page, "lesson-5-noise")


def test_random_labels(page: Page, server: str):
    page.goto(f"{server}/lessons/random-labels?subset=200&epochs=3")
    expect(page.locator("#status-real")).to_have_text("not started")
    page.click("#start-runs")
    for key in ("real", "shuffled"):
        expect(page.locator(f"#status-{key}")).to_contain_text("finished", timeout=60_000)
    expect(page.locator("#accuracy-chart")).to_have_attribute("data-points", re.compile(r"^[1-9]"))
    expect(page.locator("#start-runs")).to_be_disabled()  # opening it again rejoins, never restarts
    shot(page, "lesson-6-random-labels")
    page.reload()
    expect(page.locator("#status-shuffled")).to_contain_text("finished")
    runs = page.evaluate("fetch('/api/runs').then(r => r.json())")
    assert len([r for r in runs if r["name"].startswith("random labels")]) == 2


def test_many_valleys(page: Page, server: str):
    page.goto(f"{server}/lessons/many-valleys?seeds=2")
    expect(page.locator(".run-card")).to_have_count(2)
    page.click("#start-seeds")
    expect(page.locator("#accuracy-list")).to_have_text(re.compile(r"^\d+\.\d%, \d+\.\d%$"), timeout=90_000)
    expect(page.locator(".run-card .heatmaps canvas")).to_have_count(16)
    shot(page, "lesson-7-many-valleys")


def test_hidden_neurons(page: Page, server: str):
    config = {"epochs": 1, "train_subset": 20000, "validation_size": 0, "name": "short"}
    run = page.request.post(f"{server}/api/runs", data=config).json()
    # Ask for its timeline at once, so the recorder follows it from (nearly) the first step.
    page.request.get(f"{server}/api/lessons/timeline?run={run['id']}")
    page.goto(f"{server}/lessons/hidden-neurons?model=lesson-net&trun={run['id']}")
    expect(page.locator("#ideal-maps canvas")).to_have_count(8)
    expect(page.locator("body")).to_have_attribute("data-learned", "1")
    two_or_more = re.compile(r"^([2-9]|\d\d+)")
    expect(page.locator("body")).to_have_attribute("data-frames", two_or_more, timeout=30_000)
    slider = page.locator("#timeline")
    slider.fill("0")
    slider.dispatch_event("input")
    expect(page.locator("body")).to_have_attribute("data-frame", "0")
    expect(page).to_have_url(re.compile(r"trun=r\d+"))
    shot(page, "lesson-8-hidden-neurons")


def test_every_lesson_fits_a_phone(browser: Browser, server: str):
    context = browser.new_context(bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    try:
        pg = context.new_page()
        for slug in SLUGS:
            pg.goto(f"{server}/lessons/{slug}?model=lesson-net")
            pg.wait_for_timeout(300)
            overflow = pg.evaluate("document.documentElement.scrollWidth") - PHONE["width"]
            assert overflow <= 0, f"{slug} is {overflow}px wider than a 390px phone"
            if slug in ("downhill-2d", "which-nudges-matter", "hidden-neurons"):
                shot(pg, f"lesson-phone-{slug}")
    finally:
        context.close()
