// Several runs' metric histories on one shared x axis (uPlot's columnar shape), for overlaying
// their curves. Pure functions, so they can be tested without a browser.

/** Return the points of a history that carry a value for `field`, sorted by epoch. */
export function pointsWith(points, field) {
  return points.filter((p) => Number.isFinite(p?.epoch) && Number.isFinite(p?.[field]))
    .sort((a, b) => a.epoch - b.epoch);
}

/**
 * Return [xs, ys_1, ..., ys_k] for uPlot: xs is the sorted union of the epochs at which any of
 * the `lines` ({points, field}) has a value; each ys holds that line's value there, or null.
 */
export function mergeColumns(lines) {
  const tables = lines.map(({ points, field }) => new Map(pointsWith(points, field).map((p) => [p.epoch, p[field]])));
  const xs = [...new Set(tables.flatMap((t) => [...t.keys()]))].sort((a, b) => a - b);
  return [xs, ...tables.map((t) => xs.map((x) => (t.has(x) ? t.get(x) : null)))];
}
