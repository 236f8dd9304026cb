"""Measure the studio page: weight, time to first paint, and the live view while a run trains.

    python bench/bench_page.py [--seconds 10] [--runs 5] [--json out.json]

Starts the real server (tests/support/server.py, which starts the default training run on the real
MNIST) and drives Debian's chromium through Playwright:
- page weight: every document, script and stylesheet the page loads, raw and gzipped (level 6);
- time to first paint / first contentful paint: median over --runs fresh browser contexts, warm server;
- live view, --seconds while the run trains at 1920x1080 with a digit drawn: animation frames in
  which a chart or the heatmaps were redrawn (updates/s), and the main thread's busy fraction from
  Chrome's own task accounting (CDP Performance.getMetrics TaskDuration), plus long tasks (>50 ms).
Goal (issue 4): >= 5 updates/s with the main thread <= 50% busy.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.server import running_server  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESK = {"width": 1920, "height": 1080}

# Counts animation frames in which any live widget redrew, and collects long tasks.
PROBE = """() => {
  const s = window.studio.ui, probe = window.__probe = { frames: 0, updates: 0, longTasks: 0, longMs: 0 };
  const count = () => s.heatmaps.updates + s.charts.cost.renders + s.charts.accuracy.renders;
  let last = count();
  const tick = () => {
    probe.frames += 1;
    const now = count();
    if (now !== last) { probe.updates += 1; last = now; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { probe.longTasks += 1; probe.longMs += e.duration; }
  }).observe({ type: "longtask" });
}"""


def page_weight(browser: Browser, url: str) -> dict:
    """Return raw and gzipped bytes of the HTML, JS and CSS the page loads."""
    context = browser.new_context(bypass_csp=True, viewport=DESK)
    page = context.new_page()
    urls: list[tuple[str, str]] = []
    page.on("response", lambda r: urls.append((r.request.resource_type, r.url))
            if r.request.resource_type in ("document", "script", "stylesheet") else None)
    page.goto(url, wait_until="networkidle")
    context.close()
    rows = []
    for kind, address in urls:
        with urllib.request.urlopen(address, timeout=10) as response:
            body = response.read()
        rows.append({"kind": kind, "path": address.removeprefix(url), "bytes": len(body),
                     "gzip": len(gzip.compress(body, compresslevel=6))})
    vendor = [r for r in rows if "/vendor/" in r["path"]]
    return {"files": len(rows), "bytes": sum(r["bytes"] for r in rows), "gzip": sum(r["gzip"] for r in rows),
            "vendor_gzip": sum(r["gzip"] for r in vendor), "detail": rows}


BLANK = "data:text/html,<!doctype html><h1>Digit Studio</h1>"


def first_paint(browser: Browser, url: str, runs: int) -> dict:
    """Return the median first paint and first contentful paint (ms) over fresh contexts, and the
    same for a one-line page (the browser's own floor on this machine)."""
    out = paints(browser, url, runs)
    floor = paints(browser, BLANK, runs)
    return {**out, "floor_first_contentful_paint_ms": floor["first_contentful_paint_ms"]}


def paints(browser: Browser, url: str, runs: int) -> dict:
    fp, fcp = [], []
    for _ in range(runs + 1):   # the first load warms the server (templates, static files)
        context = browser.new_context(bypass_csp=True, viewport=DESK)
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0")
        paints = {e["name"]: e["startTime"] for e in page.evaluate(
            "performance.getEntriesByType('paint').map(e => ({name: e.name, startTime: e.startTime}))")}
        fp.append(paints.get("first-paint", float("nan")))
        fcp.append(paints["first-contentful-paint"])
        context.close()
    return {"first_paint_ms": round(statistics.median(fp[1:]), 1),
            "first_contentful_paint_ms": round(statistics.median(fcp[1:]), 1), "runs": runs}


def draw_digit(page) -> None:
    box = page.locator("#draw-canvas").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.5, y + h * 0.15)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + w * (0.5 + 0.002 * i), y + h * (0.15 + 0.035 * i))
    page.mouse.up()


def live_view(browser: Browser, url: str, seconds: float) -> dict:
    """Return the live view's update rate and main-thread load while the watched run trains."""
    context = browser.new_context(bypass_csp=True, viewport=DESK)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("document.body.dataset.live === 'open'", timeout=30_000)
    draw_digit(page)
    page.wait_for_function("document.querySelector('#predicted-digit').textContent !== ''", timeout=10_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.evaluate(PROBE)

    def task_seconds() -> float:
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["TaskDuration"]

    busy0, t0 = task_seconds(), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    busy1, t1 = task_seconds(), time.monotonic()
    probe = page.evaluate("window.__probe")
    status = page.evaluate("window.studio.ui && document.querySelector('#run-status .state').textContent")
    context.close()
    wall = t1 - t0
    return {"seconds": round(wall, 2), "updates_per_s": round(probe["updates"] / wall, 2),
            "frames_per_s": round(probe["frames"] / wall, 1),
            "main_thread_busy": round((busy1 - busy0) / wall, 3),
            "long_tasks": probe["longTasks"], "long_task_ms": round(probe["longMs"], 1),
            "run_state_at_end": status}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the live-view window (default 10)")
    ap.add_argument("--runs", type=int, default=5, help="page loads for the first-paint median (default 5)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    with running_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        live = live_view(browser, url, args.seconds)     # first, while the default run is young
        figures = {"live_view": live, "page_weight": page_weight(browser, url),
                   "first_paint": first_paint(browser, url, args.runs)}
        browser.close()
    w, fp = figures["page_weight"], figures["first_paint"]
    print(f"page weight: {w['files']} files, {w['bytes'] / 1024:.1f} KiB raw, "
          f"{w['gzip'] / 1024:.1f} KiB gzipped (vendored uPlot {w['vendor_gzip'] / 1024:.1f} KiB of it)")
    print(f"first paint {fp['first_paint_ms']} ms, "
          f"first contentful paint {fp['first_contentful_paint_ms']} ms "
          f"(median of {fp['runs']}, warm server; "
          f"a one-line page: {fp['floor_first_contentful_paint_ms']} ms)")
    print(f"live view over {live['seconds']} s ({live['run_state_at_end']} at the end): "
          f"{live['updates_per_s']} updates/s, {live['frames_per_s']} frames/s, main thread "
          f"{100 * live['main_thread_busy']:.1f}% busy, "
          f"{live['long_tasks']} long tasks ({live['long_task_ms']} ms)")
    ok = live["updates_per_s"] >= 5 and live["main_thread_busy"] <= 0.5
    print(f"goal (>= 5 updates/s, <= 50% busy): {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
