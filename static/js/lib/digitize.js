// Stroke -> 28x28 "MNIST-like" image, the way MNIST itself was made:
// the digit's bounding box is scaled (aspect kept) to fit a 20x20 box, then the
// image is shifted so its centre of mass sits at the centre of the 28x28 field.
// We rasterise the pen path at 28x28 directly (not by shrinking canvas pixels), so
// the stroke has the same thickness and soft edge whatever size the digit was drawn.

export const SIZE = 28;
export const BOX = 20;             // MNIST fits each digit's ink into 20x20
export const PEN_RADIUS = 1.4;     // half the stroke width, in 28x28 pixels
export const PEN_SOFTNESS = 0.85;  // width of the soft edge, in pixels

/** Return [minX, minY, maxX, maxY] of every point in the strokes, or null if there are none. */
export function bounds(strokes) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const stroke of strokes) {
    for (const p of stroke) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      minX = Math.min(minX, p.x); maxX = Math.max(maxX, p.x);
      minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y);
    }
  }
  return minX === Infinity ? null : [minX, minY, maxX, maxY];
}

/** Return the pen's ink (0..1) at distance d from the centre line: 1 inside, a soft ramp at the edge. */
export function penInk(d, radius = PEN_RADIUS, softness = PEN_SOFTNESS) {
  const t = (radius + softness / 2 - d) / softness;
  if (t <= 0) return 0;
  if (t >= 1) return 1;
  return t * t * (3 - 2 * t);  // smoothstep: no hard pixel edge, like a scanned pen stroke
}

function distanceToSegment(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Draw one segment (28x28 coordinates, pixel i spans [i, i+1]) into img, keeping the max ink per pixel. */
function inkSegment(img, ax, ay, bx, by) {
  const reach = PEN_RADIUS + PEN_SOFTNESS;
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - reach));
  const x1 = Math.min(SIZE - 1, Math.ceil(Math.max(ax, bx) + reach));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - reach));
  const y1 = Math.min(SIZE - 1, Math.ceil(Math.max(ay, by) + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const ink = penInk(distanceToSegment(x + 0.5, y + 0.5, ax, ay, bx, by));
      const i = y * SIZE + x;
      if (ink > img[i]) img[i] = ink;
    }
  }
}

/** Return a 784-long Float32Array: the strokes drawn after mapping each point through f(p) -> [x, y]. */
export function rasterise(strokes, f) {
  const img = new Float32Array(SIZE * SIZE);
  for (const stroke of strokes) {
    const pts = stroke.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map(f);
    if (pts.length === 1) pts.push(pts[0]);  // a tap is a dot
    for (let k = 1; k < pts.length; k++) inkSegment(img, ...pts[k - 1], ...pts[k]);
  }
  return img;
}

/** Return [x, y] of the image's centre of mass (pixel centres at i + 0.5), or null if it has no ink. */
export function centreOfMass(img) {
  let total = 0, sx = 0, sy = 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const v = img[y * SIZE + x];
      total += v; sx += v * (x + 0.5); sy += v * (y + 0.5);
    }
  }
  return total > 0 ? [sx / total, sy / total] : null;
}

/**
 * Return the strokes (arrays of {x, y} in any units, y down) as MNIST-like pixels:
 * a Float32Array(784), row-major, 0 = paper, 1 = ink; or null when nothing is drawn.
 */
export function strokesToPixels(strokes) {
  const box = bounds(strokes);
  if (!box) return null;
  const [minX, minY, maxX, maxY] = box;
  const extent = Math.max(maxX - minX, maxY - minY);
  // The pen's own width is part of the ink box, so the centre line gets the rest of the 20 px.
  const scale = extent > 0 ? (BOX - 2 * PEN_RADIUS) / extent : 0;
  const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
  const place = (dx, dy) => (p) => [(p.x - cx) * scale + SIZE / 2 + dx, (p.y - cy) * scale + SIZE / 2 + dy];
  const first = rasterise(strokes, place(0, 0));
  const com = centreOfMass(first);
  if (!com) return first;
  return rasterise(strokes, place(SIZE / 2 - com[0], SIZE / 2 - com[1]));
}
