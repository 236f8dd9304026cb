// Where the network picture puts things, in the SVG's own units: the 28x28 input on the left, then
// one column of circles per layer, the outputs last. Pure: no DOM, so it is tested under node.

export const VIEW = { width: 1000, height: 660, top: 76, bottom: 16 };   // top: two lines of titles
const INPUT = { x: 10, size: 230 };
const OUTPUT_X = 880;

/**
 * Return the layout for `counts` neurons shown per layer after the input (e.g. [16, 16, 10]), in a
 * picture 1000 wide and `height` tall: {width, height, input: {x, y, size, cell}, columns: [{x, ys: [...], r}]}.
 */
export function layout(counts, height = VIEW.height) {
  const { width, top, bottom } = VIEW;
  const span = height - top - bottom;
  const input = { x: INPUT.x, y: top + (span - INPUT.size) / 2, size: INPUT.size, cell: INPUT.size / 28 };
  const first = INPUT.x + INPUT.size + 150;
  const columns = counts.map((n, k) => {
    const x = counts.length === 1 ? OUTPUT_X : first + ((OUTPUT_X - first) * k) / (counts.length - 1);
    const gap = span / Math.max(n, 1);
    const ys = Array.from({ length: n }, (_, i) => top + gap * (i + 0.5));
    return { x, ys, r: Math.max(4, Math.min(22, gap * 0.42)) };
  });
  return { width, height, input, columns };
}

/** Return the centre of input pixel k (0..783) in the layout's input square. */
export function pixelCentre(input, k) {
  return { x: input.x + ((k % 28) + 0.5) * input.cell, y: input.y + (Math.floor(k / 28) + 0.5) * input.cell };
}

/** Return the stroke of a connection of weight w when the largest |w| shown is `scale`. */
export function edgeStyle(w, scale) {
  const t = scale > 0 ? Math.min(1, Math.abs(w) / scale) : 0;
  return { colour: w >= 0 ? "#2166ac" : "#b2182b", width: 0.6 + 5 * t, opacity: 0.08 + 0.8 * t };
}

/** Return the largest |value| in nested arrays of numbers (0 if none). */
export function maxAbs(values) {
  let m = 0;
  for (const v of values.flat(Infinity)) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}
