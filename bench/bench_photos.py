"""Reading photos of paper: accuracy on phone-style photos against clean drawings of the same digits.

    python bench/bench_photos.py [--per-digit 30] [--seed 2026] [--drawn 50]

For each shipped model (`best`, `default`): accuracy on the photos of tests/support/photos.py, on the
clean drawings of the same strokes, on the drawn digits of tests/support/drawn.py, and how many
blank shadowed sheets are refused as empty, each through the predict path (decode, preprocess,
forward pass). Also the preprocessing time of a photo and of a canvas drawing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.imaging import EmptyDrawingError, open_image, preprocess  # noqa: E402
from app.training.modelfile import load_model  # noqa: E402
from app.training.threads import pin_blas_threads  # noqa: E402
from tests.support.drawn import drawn_set  # noqa: E402
from tests.support.photos import blank_sheets, photo_set  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def inputs(images: list[bytes]) -> tuple[np.ndarray, list[int]]:
    """Return the 28x28 inputs (n, 784) of the images that have ink, and the indices of those that do not."""
    rows, empty = [], []
    for i, data in enumerate(images):
        try:
            rows.append(preprocess(ImageOps.exif_transpose(open_image(data))).input.ravel())
        except EmptyDrawingError:
            rows.append(np.zeros(784, np.float32))
            empty.append(i)
    return np.array(rows), empty


def accuracy(net, x: np.ndarray, empty: list[int], labels: list[int]) -> float:
    guess = net.predict(x).argmax(axis=1)
    guess[empty] = -1   # refused as empty: not read
    return float((guess == np.array(labels)).mean())


def median_ms(images: list[bytes]) -> float:
    times = []
    for data in images:
        t0 = time.perf_counter()
        preprocess(ImageOps.exif_transpose(open_image(data)))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-digit", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drawn", type=int, default=50, help="drawn digits per digit")
    args = parser.parse_args()
    pin_blas_threads()
    samples = photo_set(args.per_digit, args.seed)
    labels = [label for label, _, _ in samples]
    drawn = drawn_set(args.drawn, seed=args.seed)
    sets = {"photos": inputs([p for _, _, p in samples]), "clean": inputs([c for _, c, _ in samples]),
            "drawn": inputs([d for _, d in drawn])}
    blanks = blank_sheets(50, seed=args.seed)
    refused = len(inputs(blanks)[1])
    print(f"{len(samples)} photos (seed {args.seed}), {len(drawn)} drawn digits; "
          f"blank sheets refused as empty: {refused}/{len(blanks)}; photos refused: {len(sets['photos'][1])}")
    for name in ("best", "default"):
        net, _ = load_model(REPO / "models" / f"{name}.npz")
        figures = {k: accuracy(net, x, empty, [d for d, _ in drawn] if k == "drawn" else labels)
                   for k, (x, empty) in sets.items()}
        print(f"{name:8s} " + "  ".join(f"{k} {v:.1%}" for k, v in figures.items())
              + f"  (photos - clean: {figures['photos'] - figures['clean']:+.1%})")
    print(f"preprocess median: photo {median_ms([p for _, _, p in samples[:40]]):.1f} ms, "
          f"drawing {median_ms([d for _, d in drawn[:40]]):.2f} ms")


if __name__ == "__main__":
    main()
