// Colour scales. Weights: a diverging palette (red = negative, blue = positive) with a fixed,
// neutral colour for exactly zero, so "this pixel does not matter" always looks the same.
// Activations: a sequential ramp from paper (0) to ink (1).

const DIVERGING = [  // ColorBrewer RdBu, 5 stops over [-1, 1]
  [-1, [178, 24, 43]], [-0.5, [239, 138, 98]], [0, [247, 247, 247]],
  [0.5, [103, 169, 207]], [1, [33, 102, 172]],
];
const SEQUENTIAL = [[0, [247, 247, 247]], [0.5, [120, 150, 200]], [1, [8, 38, 110]]];
export const NEUTRAL = DIVERGING[2][1];

function interpolate(stops, t) {
  for (let k = 1; k < stops.length; k++) {
    const [t1, c1] = stops[k];
    if (t <= t1) {
      const [t0, c0] = stops[k - 1];
      const f = (t - t0) / (t1 - t0);
      return c0.map((v, i) => Math.round(v + f * (c1[i] - v)));
    }
  }
  return stops[stops.length - 1][1].slice();
}

/** Return [r, g, b] for t in [-1, 1] (clamped); t = 0 (and NaN) give the neutral colour. */
export function diverging(t) {
  if (!Number.isFinite(t) || t === 0) return NEUTRAL.slice();
  return interpolate(DIVERGING, Math.max(-1, Math.min(1, t)));
}

/** Return [r, g, b] for an activation a in [0, 1] (clamped; NaN counts as 0). */
export function sequential(a) {
  const t = Number.isFinite(a) ? Math.max(0, Math.min(1, a)) : 0;
  return interpolate(SEQUENTIAL, t);
}

/**
 * Return a Uint8ClampedArray(256 * 4) RGBA lookup table for int8 weight codes:
 * the colour of code c is at ((c + 128) * 4); code 0 is the neutral colour, +-127 the ends.
 */
export function int8Lut() {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let c = -128; c <= 127; c++) {
    const [r, g, b] = diverging(Math.max(-1, c / 127));
    lut.set([r, g, b, 255], (c + 128) * 4);
  }
  return lut;
}

/** Return "rgb(r, g, b)" for CSS. */
export function css([r, g, b]) {
  return `rgb(${r}, ${g}, ${b})`;
}
