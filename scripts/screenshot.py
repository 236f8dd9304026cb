"""Take a picture of the studio page while the default network climbs (for the README).

Starts `digit-studio serve` on a free loopback port with a throw-away state folder (the tests' own
starter, tests/support/server.py), opens the page in Debian's headless chromium through Playwright,
draws a 3, waits until the accuracy shown is mid-climb (--low..--high %), and saves a PNG. The
pictures in docs/:

    python scripts/screenshot.py --size 1920x1080 --present --out docs/screenshot-presentation.png
    python scripts/screenshot.py --size 1366x768 --out docs/screenshot-laptop.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.canvas import draw_strokes  # noqa: E402
from tests.support.server import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# A '3' as one stroke: its two bumps, in fractions of the canvas.
THREE = [[(0.30, 0.22), (0.50, 0.15), (0.68, 0.25), (0.62, 0.42), (0.45, 0.50), (0.65, 0.58),
          (0.70, 0.75), (0.52, 0.86), (0.30, 0.80)]]


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
        draw_strokes(page, THREE, steps=8)   # so the picture shows the network's answer
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
    with tempfile.TemporaryDirectory(prefix="digit-studio-shot-") as tmp, \
            serve(Path(tmp) / "state", "--log-level", "warning", log=Path(tmp) / "server.log") as server:
        shoot(server.url, args.out, args)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
