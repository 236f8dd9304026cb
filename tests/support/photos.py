"""Phone-style photos of digits written on paper, each with a clean drawing of the same strokes.

Not MNIST: the strokes are the hand-written skeletons of tests/support/drawn.py (plus a 5 whose hat
is lifted off the body and a 4 whose two strokes do not touch), jittered, slanted and written with a
ballpoint, a gel pen or a felt-tip, in black or blue ink. The photo puts them small and off-centre on
textured paper in a 640x480 frame, lit unevenly (a ramp, a vignette, a warm or cool cast) with a
soft shadow band across the sheet, then blurs a little, adds sensor noise and saves a JPEG. The clean
version is the same strokes, dark on white, filling a 280x280 canvas as a person would draw them.
Everything follows from the seed.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tests.support.drawn import SKELETONS, Stroke, catmull_rom

WIDTH, HEIGHT = 640, 480
CLEAN = 280
SUPER = 3      # strokes are drawn at 3x and reduced: anti-aliased edges, as a lens gives them
S, P = True, False
EXTRA: dict[int, list[list[Stroke]]] = {   # pen lifts that leave the digit in two separate pieces
    4: [[(P, [(0.5, 0), (0.06, 0.6), (0.58, 0.6)]), (P, [(0.78, 0.08), (0.76, 1)])]],
    5: [[(P, [(0.3, 0.02), (0.22, 0.45)]), (P, [(0.42, 0), (0.92, 0.02)]),
         (S, [(0.22, 0.45), (0.5, 0.36), (0.84, 0.52), (0.86, 0.8), (0.55, 1), (0.1, 0.9)])]],
}
INKS = {"black": (0.09, 0.09, 0.1), "blue": (0.16, 0.22, 0.62), "navy": (0.12, 0.14, 0.38)}
PENS = {"ballpoint": (1.8, 3.0), "gel": (2.6, 4.2), "felt-tip": (4.0, 7.0)}   # width range, px at 640x480


def strokes_for(digit: int, rng: np.random.Generator,
                skeleton: list[Stroke] | None = None) -> list[np.ndarray]:
    """Return one hand's strokes of `digit` (of `skeleton` if given, else one picked at random) in a
    unit-ish box (x right, y down), slanted and turned."""
    if skeleton is None:
        choices = SKELETONS[digit] + EXTRA.get(digit, [])
        skeleton = choices[rng.integers(len(choices))]
    shear, angle = rng.uniform(-0.15, 0.4), math.radians(rng.uniform(-10, 10))
    aspect = 0.12 if digit == 1 else rng.uniform(0.55, 0.85)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    out = []
    for smooth, pts in skeleton:
        p = np.array(pts, float) + rng.normal(0, 0.025, (len(pts), 2))   # a hand is never exact
        p = catmull_rom(p) if smooth else p
        xy = np.column_stack([(p[:, 0] - 0.5) * aspect + shear * (0.5 - p[:, 1]), p[:, 1] - 0.5])
        out.append(xy @ rot.T)
    return out


def draw_strokes(size: tuple[int, int], strokes: list[np.ndarray], pen: float) -> Image.Image:
    """Return a mode-L coverage mask (255 = ink) of the strokes drawn with a round pen."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    r = pen / 2
    for s in strokes:
        draw.line([tuple(p) for p in s], fill=255, width=max(1, round(pen)), joint="curve")
        for x, y in (s[0], s[-1]):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return mask


def fit(strokes: list[np.ndarray], height: float, corner: tuple[float, float]) -> list[np.ndarray]:
    """Return the strokes scaled to `height` with their bounding box's top-left at `corner`."""
    allpts = np.vstack(strokes)
    lo, span = allpts.min(0), np.ptp(allpts, 0)
    scale = height / max(span[1], 1e-6)
    return [(s - lo) * scale + np.array(corner) for s in strokes]


def clean_png(strokes: list[np.ndarray], pen_ratio: float) -> bytes:
    """Return the strokes as a clean drawing: dark ink on white, 200 px tall on a 280x280 canvas."""
    span = np.ptp(np.vstack(strokes), 0)
    height = 200 * min(1.0, 200 / max(span[0] / span[1] * 200, 1e-6))
    placed = fit(strokes, height, ((CLEAN - span[0] / span[1] * height) / 2, (CLEAN - height) / 2))
    mask = np.asarray(draw_strokes((CLEAN, CLEAN), placed, max(6.0, pen_ratio * height)), np.float32) / 255
    buf = io.BytesIO()
    Image.fromarray((255 - 235 * mask).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def smooth_noise(rng: np.random.Generator, cells: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """Return (h, w) float32 noise, mean 0 and about unit spread, varying over `cells` cells."""
    coarse = Image.fromarray(rng.normal(0, 1, (cells[1], cells[0])).astype(np.float32))
    return np.asarray(coarse.resize(size, Image.Resampling.BICUBIC), np.float32)


def lighting(rng: np.random.Generator) -> np.ndarray:
    """Return the light falling on the sheet (h, w, 3): a ramp, a vignette, a soft shadow band, a cast."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    theta = rng.uniform(0, 2 * math.pi)
    along = ((xx - WIDTH / 2) * math.cos(theta) + (yy - HEIGHT / 2) * math.sin(theta)) / 400
    light = rng.uniform(0.75, 1.0) * (1 - rng.uniform(0.2, 0.45) * (along + 1) / 2)   # the darker side
    r2 = ((xx - rng.uniform(0, WIDTH)) ** 2 + (yy - rng.uniform(0, HEIGHT)) ** 2) / (WIDTH ** 2)
    light = light * (1 - rng.uniform(0.1, 0.3) * np.clip(r2, 0, 1))
    # A shadow band (an arm, a phone) with soft edges, somewhere across the sheet.
    phi = rng.uniform(0, math.pi)
    across = (xx - WIDTH / 2) * math.cos(phi) + (yy - HEIGHT / 2) * math.sin(phi)
    centre, half = rng.uniform(-220, 220), rng.uniform(40, 140)
    band = Image.fromarray(((np.abs(across - centre) < half) * 255).astype(np.uint8))
    band_soft = np.asarray(band.filter(ImageFilter.GaussianBlur(rng.uniform(8, 30))), np.float32) / 255
    light = light * (1 - rng.uniform(0.25, 0.5) * band_soft)
    light = light * (rng.uniform(1.0, 1.12) / light.max())                 # the phone exposes for the sheet
    cast = np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.86, 0.98)], np.float32)   # warm lamp
    if rng.random() < 0.3:
        cast = np.array([rng.uniform(0.92, 0.97), rng.uniform(0.96, 0.99), 1.0], np.float32)  # daylight
    return light[..., None] * cast


def photo(strokes: list[np.ndarray], pen: float, ink: tuple[float, float, float],
          rng: np.random.Generator, height: float | None) -> Image.Image:
    """Return an RGB 640x480 photo of the strokes (height px tall, off-centre); height None = blank sheet."""
    paper = rng.uniform(0.84, 0.94) - np.array([0, rng.uniform(0, 0.02), rng.uniform(0, 0.06)], np.float32)
    grain = 0.025 * smooth_noise(rng, (24, 18), (WIDTH, HEIGHT)) + 0.012 * rng.normal(0, 1, (HEIGHT, WIDTH))
    reflect = paper * (1 + grain[..., None]).astype(np.float32)
    if height is not None:
        span = np.ptp(np.vstack(strokes), 0)
        w = span[0] / span[1] * height
        corner = (rng.uniform(30, WIDTH - 30 - w), rng.uniform(30, HEIGHT - 30 - height))
        placed = fit(strokes, height * SUPER, (corner[0] * SUPER, corner[1] * SUPER))
        big = draw_strokes((WIDTH * SUPER, HEIGHT * SUPER), placed, pen * SUPER)
        cover = np.asarray(big.reduce(SUPER), np.float32) / 255
        cover *= np.clip(1 - 0.15 * np.abs(smooth_noise(rng, (40, 30), (WIDTH, HEIGHT))), 0.6, 1)
        reflect = reflect * (1 - cover[..., None]) + np.array(ink, np.float32) * cover[..., None]
    seen = reflect * lighting(rng) * 255
    image = Image.fromarray(np.clip(seen, 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    noisy = np.asarray(image, np.float32) + rng.normal(0, rng.uniform(1.5, 4.0), (HEIGHT, WIDTH, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).round().astype(np.uint8), "RGB")


def jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def photo_set(n_per_digit: int, seed: int = 0) -> list[tuple[int, bytes, bytes]]:
    """Return [(label, clean PNG, photo JPEG)], n_per_digit of each; both images of a row: one hand."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_per_digit * 10):
        digit = i % 10
        strokes = strokes_for(digit, rng)
        pen_name = list(PENS)[rng.integers(len(PENS))]
        pen = rng.uniform(*PENS[pen_name])
        height = rng.uniform(50, 150)
        ink = INKS[list(INKS)[rng.integers(len(INKS))]]
        picture = photo(strokes, pen, ink, rng, height)
        out.append((digit, clean_png(strokes, pen / height), jpeg(picture, int(rng.integers(60, 93)))))
    return out


def blank_sheets(n: int, seed: int = 0) -> list[bytes]:
    """Return n photos (JPEG) of blank paper, lit and shadowed as the digits' photos are."""
    rng = np.random.default_rng(seed)
    return [jpeg(photo([], 1.0, INKS["black"], rng, None), int(rng.integers(60, 93))) for _ in range(n)]


def contact_sheet(images: list[bytes], columns: int = 6, cell: tuple[int, int] = (320, 240)) -> Image.Image:
    """Return a grid of the images, each shrunk to `cell`, for a person to look at."""
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * cell[0], rows * cell[1]), (128, 128, 128))
    for i, data in enumerate(images):
        tile = Image.open(io.BytesIO(data)).convert("RGB")
        tile.thumbnail((cell[0] - 4, cell[1] - 4))
        sheet.paste(tile, ((i % columns) * cell[0], (i // columns) * cell[1]))
    return sheet


if __name__ == "__main__":  # python -m tests.support.photos sheet.png: look at what the tests photograph
    import sys
    samples = photo_set(2, seed=2026)
    contact_sheet([p for _, _, p in samples] + [c for _, c, _ in samples[:6]] + blank_sheets(2, seed=1)).save(
        sys.argv[1] if len(sys.argv) > 1 else "photo-digits.png")
