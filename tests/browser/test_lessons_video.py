"""The lessons as a class meets them, in real Chromium against a real server with the shipped models:
the video's network by default, lesson 3's 3-D surface and bounded rate, lesson 4's column of all
13,002 nudges and one applied step, lesson 8's wider network learning and its second layer, lesson 9's
mistakes and confusion matrix, keyboard paths, accessible names, no console errors, and the phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, shot
from tests.support.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLUGS = ["cost-of-one-example", "downhill-1d", "downhill-2d", "which-nudges-matter", "random-noise",
         "random-labels", "many-valleys", "hidden-neurons", "mistakes"]
DESK = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # --no-train: no studio run, so the lessons' default is the shipped `default` model.
    with running_server("--no-train", state_dir=tmp_path_factory.mktemp("video-lessons")) as url:
        yield url


def test_lesson_1_uses_the_video_network_and_shows_a_cost(page: Page, server: str):
    page.set_viewport_size(DESK)
    page.goto(f"{server}/lessons/cost-of-one-example")
    expect(page.locator("#source-note")).to_contain_text("model default (784-16-16-10")
    costs = []
    for index in range(5):
        expect(page.locator("#example-index")).to_have_value(str(index))
        url = re.compile(rf"index={index}") if index else re.compile(r"cost-of-one-example$")
        expect(page).to_have_url(url)
        expect(page.locator("#example-cost")).to_have_text(re.compile(r"^\d+\.\d+$"))
        costs.append(float(page.locator("#example-cost").inner_text()))
        page.click("#next-example")
    assert any(c > 0 for c in costs), f"every one of the first five costs reads as zero: {costs}"
    # `best` is one choice away
    options = page.locator("#source-picker option")
    assert [options.nth(k).get_attribute("value") for k in (0, 1)] == ["", "model:best"]


def test_lesson_3_rate_bound_keyboard_and_the_ball_in_3d(page: Page, server: str):
    page.set_viewport_size(DESK)
    top = page.request.get(f"{server}/api/lessons/downhill/bounds").json()["learning_rate"]["max"]
    page.goto(f"{server}/lessons/downhill-2d")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    rate = page.locator("#rate")
    assert float(rate.get_attribute("data-max") or "nan") == top
    # a gentle rate, then the keyboard path: move on the map with the arrows, drop a ball with Enter
    rate.evaluate("el => { el.value = '450'; el.dispatchEvent(new Event('input')); }")
    expect(page.locator("#rate-value")).to_have_text("0.22")
    page.locator("#plot-2d").focus()
    for key in ["ArrowLeft"] * 6 + ["ArrowDown"] * 6:
        page.keyboard.press(key)
    expect(page.locator("#at-point")).to_have_text("(-1.00, -1.00)")
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-paths", "1")
    expect(page.locator("#path-outcome")).to_have_text("settled in a valley")
    # the ball rolls down the 3-D surface, step by step, and comes to rest
    surface = page.locator("#surface-3d")
    expect(surface).to_have_attribute("data-rolling", "0", timeout=20_000)
    assert int(surface.get_attribute("data-ball-step") or "0") > 3
    # the top of the slider is exactly the server's bound, and the server accepts it
    rate.focus()
    page.keyboard.press("End")
    expect(page.locator("#rate-value")).to_have_text(f"{top:.2f}")
    expect(page).to_have_url(re.compile(rf"lr={top:g}"))
    outcome = re.compile("^(settled in a valley|still moving|diverged)$")
    expect(page.locator("#path-outcome")).to_have_text(outcome)
    expect(page.locator("#rate-error")).to_have_text("")
    expect(page.locator("#lesson-error")).to_have_text("")
    surface.focus()
    before = surface.get_attribute("data-yaw")
    page.keyboard.press("ArrowRight")
    expect(surface).not_to_have_attribute("data-yaw", before or "")
    # the server's refusal, as the page words it
    said = page.evaluate("""() => import('/static/js/lessons/http.js').then((m) => m.getJSON(
        '/api/lessons/downhill/2d', {x: 0, y: 0, learning_rate: 99})
        .then(() => 'accepted', (e) => e.message))""")
    assert said == f"The learning rate can be at most {top:g}."
    shot(page, "video-lesson-3")


def test_lesson_4_the_whole_gradient_and_one_step(page: Page, server: str):
    page.set_viewport_size(DESK)
    page.goto(f"{server}/lessons/which-nudges-matter?index=7")
    column = page.locator("#gradient-column")
    expect(column).to_have_attribute("data-rows", "13002")
    expect(page.locator("#column-count")).to_have_text("all 13,002 of them")
    first = column.locator("li").first
    expect(first.locator(".gc-arrow")).to_have_text(re.compile("^[↑↓]$"))   # largest first: never still
    column.evaluate("el => { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')); }")
    expect(column.locator("li").last.locator(".gc-arrow")).to_have_text("·")   # the bottom: untouched weights
    page.select_option("#column-order", "network")
    expect(column.locator("li").first.locator(".gc-name")).to_have_text("pixel (0, 0) → h1 #1")
    column.locator("li").first.hover()   # next to the weights it nudges: its neuron's pictures light up
    expect(page.locator('#weight-maps canvas[data-neuron="0"]')).to_have_class(re.compile("picked"))
    expect(page.locator('#gradient-maps canvas[data-neuron="0"]')).to_have_class(re.compile("picked"))
    page.fill("#step-rate", "3")
    page.click("#apply-step")
    expect(page.locator("#step-result")).to_contain_text("before →")
    expect(page.locator("body")).to_have_attribute("data-stepped", "true")
    expect(page.get_by_role("img", name=re.compile("incoming weights of the first 16"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("gradient of this example's cost"))).to_be_visible()
    assert "on the right" not in page.locator(".prose").inner_text()
    shot(page, "video-lesson-4")


def test_lesson_8_the_wider_network_learns_and_the_second_layer_shows(page: Page, server: str):
    page.set_viewport_size(DESK)
    page.goto(f"{server}/lessons/hidden-neurons")
    expect(page.locator("#second-maps canvas")).to_have_count(16)
    expect(page.get_by_role("img", name=re.compile("second hidden layer"))).to_be_visible()
    page.click("#start-wide")
    note = page.locator("#wide-note")
    expect(note).to_contain_text("finished", timeout=240_000)
    expect(note).to_contain_text(re.compile(r"test \d+\.\d%"))
    accuracy = float(re.search(r"test (\d+\.\d)%", note.inner_text()).group(1))   # type: ignore[union-attr]
    assert accuracy > 90, f"the wider network reached only {accuracy}%"
    expect(page.locator("#wide-maps canvas")).to_have_count(16)
    shot(page, "video-lesson-8")


def test_lesson_9_mistakes_and_a_cell_of_the_matrix(page: Page, server: str):
    page.set_viewport_size(DESK)
    page.goto(f"{server}/lessons/mistakes")
    expect(page.locator("#mistakes-summary")).to_contain_text("misread")
    grid = page.locator("#mistake-grid li")
    expect(grid).to_have_count(48)
    # click the biggest off-diagonal cell: only those digits remain
    counts = page.evaluate("""() => [...document.querySelectorAll('#confusion button')]
        .map((b) => [Number(b.textContent), Number(b.dataset.right), Number(b.dataset.answer)])
        .filter(([, r, a]) => r !== a).sort((p, q) => q[0] - p[0])[0]""")
    n, right, answer = counts
    page.click(f'#confusion button[data-right="{right}"][data-answer="{answer}"]')
    expect(page).to_have_url(re.compile(rf"right={right}&answer={answer}"))
    expect(grid).to_have_count(min(n, 48))
    for text in grid.all_inner_texts():
        assert f"says {answer}" in text and f"is {right}" in text
    page.click("#all-mistakes")
    expect(grid).to_have_count(48)
    shot(page, "video-lesson-9")


def test_lesson_9_follows_a_training_run(page: Page, server: str):
    config = {"epochs": 3, "train_subset": 20000, "validation_size": 0, "name": "live", "watch": False}
    run = page.request.post(f"{server}/api/runs", data=config).json()
    page.goto(f"{server}/lessons/mistakes?run={run['id']}")
    expect(page.locator("#source-note")).to_contain_text(f"run {run['id']}")
    three_or_more = re.compile(r"^([3-9]|\d\d+)$")   # it asked again by itself: it follows the run
    expect(page.locator("body")).to_have_attribute("data-loaded", three_or_more, timeout=60_000)
    page.request.post(f"{server}/api/runs/{run['id']}/stop")


def test_no_console_errors_on_any_lesson_page(page: Page, server: str):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for slug in ["", *SLUGS]:
        page.goto(f"{server}/lessons/{slug}".rstrip("/"), wait_until="networkidle")
        icon = page.locator('link[rel="icon"]').get_attribute("href")
        assert icon and page.request.get(f"{server}{icon}").status == 200
    assert page.request.get(f"{server}/favicon.ico").status == 200
    assert problems == []


def test_readable_text_and_keyboard_paths(page: Page, server: str):
    page.set_viewport_size(DESK)
    page.goto(f"{server}/lessons/downhill-1d")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.prose p')).fontSize)")
    assert size >= 16
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    page.locator("#plot-1d").focus()
    for _ in range(25):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#aim")).to_have_text("Enter drops a ball at x = -2.50")
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-balls", "1")
    expect(page.locator("#ball-start")).to_have_text("-2.50")
    # instead of drawing: pick a test image with the keyboard
    page.goto(f"{server}/lessons/cost-of-one-example?mode=draw")
    page.locator("#mode-test").focus()
    page.keyboard.press("Enter")
    page.locator("#example-index").fill("12")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"index=12"))
    named_parts = {"random-labels": ["training accuracy", "training cost"],
                   "hidden-neurons": ["hoped-for", "first hidden layer", "second hidden layer", "wider"]}
    for slug, names in named_parts.items():
        page.goto(f"{server}/lessons/{slug}")
        for name in names:
            named = page.locator(f'[role="img"][aria-label*="{name}" i], '
                                 f'[role="figure"][aria-label*="{name}" i]')
            expect(named.first).to_be_attached()


def test_the_phone(browser: Browser, server: str):
    context = browser.new_context(bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        pg = context.new_page()
        pg.goto(f"{server}/lessons/downhill-2d")
        expect(pg.locator("body")).to_have_attribute("data-loaded", "1")
        width = pg.locator("#plot-2d").bounding_box()["width"]   # type: ignore[index]
        assert width > 300, f"lesson 3's map is {width:.0f} px wide on a 390 px phone"
        for slug in ("cost-of-one-example", "which-nudges-matter"):
            pg.goto(f"{server}/lessons/{slug}?mode=draw")
            pg.locator("#draw-canvas").scroll_into_view_if_needed()
            canvas = pg.locator("#draw-canvas").bounding_box()
            answer = pg.locator("#example-digit").bounding_box()
            assert canvas and answer
            for box in (canvas, answer):   # the canvas and the answer on screen together
                assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"] + 1, (slug, box)
        shot(pg, "video-lesson-phone-draw")
    finally:
        context.close()


def contrast(fg: list[float], bg: list[float]) -> float:
    """Return the WCAG contrast ratio of two sRGB colours (0..255)."""
    def luminance(rgb: list[float]) -> float:
        lin = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_draw_hint_is_readable(page: Page, server: str):
    page.goto(server)
    expect(page.locator("#draw-hint")).to_be_visible()
    colours = page.evaluate(r"""() => [getComputedStyle(document.querySelector('#draw-hint')).color,
        getComputedStyle(document.querySelector('#draw-canvas')).backgroundColor]
        .map((c) => c.match(/[\d.]+/g).slice(0, 3).map(Number))""")
    assert contrast(*colours) >= 4.5, f"hint contrast {contrast(*colours):.2f}:1"
