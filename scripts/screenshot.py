"""Take a picture of the studio page while the default network trains (for the README).

Starts `digit-studio serve` on a free loopback port with a throw-away state folder, opens the page
in Debian's headless chromium through Playwright, waits for training to show, and saves a PNG.
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


def shoot(url: str, out: Path, wait: float, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url, wait_until="load")
        page.wait_for_timeout(wait * 1000)  # let the cost curve and the weight heatmaps fill in
        draw_a_three(page)
        page.wait_for_timeout(1500)  # the answer arrives after the next weight update
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "artifacts" / "screenshot.png")
    parser.add_argument("--wait", type=float, default=15.0, help="seconds of training before the shot")
    parser.add_argument("--size", default="1400x900", help="viewport WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="digit-studio-shot-") as state:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--port", str(port),
                                 "--state-dir", state, "--log-level", "warning"], cwd=REPO)
        try:
            wait_healthy(url, proc)
            shoot(url, args.out, args.wait, width, height)
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
