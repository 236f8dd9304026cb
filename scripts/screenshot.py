"""Take a picture of the studio page while the default network climbs (for the README).

Starts `digit-studio serve` on a free loopback port with a throw-away state folder, opens the page
in Debian's headless chromium through Playwright, draws a 3, waits until the accuracy shown is
mid-climb (--low..--high %), and saves a PNG. The pictures in docs/:

    python scripts/screenshot.py --size 1920x1080 --present --out docs/screenshot-presentation.png
    python scripts/screenshot.py --size 1366x768 --out docs/screenshot-laptop.png
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Return once GET /api/health answers 200; raise if the server dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=1.0) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"no answer from {url}/api/health within {timeout:.0f} s")


def draw_a_three(page) -> None:
    """Draw a '3' on the page's canvas with the mouse, so the picture shows the network's answer."""
    box = page.locator("#draw-canvas").bounding_box()
    if box is None:
        raise SystemExit("the page has no visible #draw-canvas to draw on")
    # Two bumps of a '3', in fractions of the canvas, traced as one stroke.
    path = [(0.30, 0.22), (0.50, 0.15), (0.68, 0.25), (0.62, 0.42), (0.45, 0.50), (0.65, 0.58),
            (0.70, 0.75), (0.52, 0.86), (0.30, 0.80)]
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in path]
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def accuracy_shown(page) -> float | None:
    """Return the accuracy the page shows in #accuracy-now (e.g. 47.3), or None before the first."""
    text = page.text_content("#accuracy-now") or ""
    return float(text.rstrip("%")) if text.endswith("%") else None


def shoot(url: str, out: Path, args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height},
                                device_scale_factor=args.scale)
        page.goto(url, wait_until="load")
        page.wait_for_selector("#network-diagram [data-neuron]", timeout=30_000)
        draw_a_three(page)
        if args.present:
            page.keyboard.press("p")
        # Mid-climb: wait (polling the page's own figure) until the accuracy is within the window.
        deadline = time.monotonic() + args.timeout
        while True:
            shown = accuracy_shown(page)
            if shown is not None and args.low <= shown <= args.high:
                break
            if time.monotonic() > deadline or (shown is not None and shown > args.high):
                print(f"note: the accuracy shown is {shown}%, outside {args.low}-{args.high}%")
                break
            page.wait_for_timeout(250)
        page.wait_for_timeout(600)   # the answer to the drawing from the newest weights
        page.screenshot(path=str(out), full_page=args.full_page)
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "artifacts" / "screenshot.png")
    parser.add_argument("--size", default="1366x768", help="viewport WIDTHxHEIGHT")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio")
    parser.add_argument("--present", action="store_true", help="presentation mode (the 'p' key)")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not just the viewport")
    parser.add_argument("--low", type=float, default=55.0, help="shoot once the accuracy shown is >= LOW%%")
    parser.add_argument("--high", type=float, default=88.0, help="... and <= HIGH%% (mid-climb)")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the window")
    args = parser.parse_args()
    args.width, args.height = (int(v) for v in args.size.lower().split("x"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="digit-studio-shot-") as state:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--port", str(port),
                                 "--state-dir", state, "--log-level", "warning"], cwd=REPO)
        try:
            wait_healthy(url, proc)
            shoot(url, args.out, args)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
