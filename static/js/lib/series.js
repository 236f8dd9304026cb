// Columnar chart data (uPlot's shape: [[x...], [y...], ...]) built from metrics points.
// Points arrive several times a second for hours; past `cap` points we halve the older
// detail but keep every evaluated point, so the curve's shape and the test points survive.

export const FIELDS = ["batch_cost", "test_cost", "test_accuracy"];

export class Series {
  constructor(cap = 3000) {
    this.cap = cap;
    this.reset();
  }

  reset() {
    this.x = [];
    this.ys = FIELDS.map(() => []);
    this.lastStep = -Infinity;
  }

  get length() {
    return this.x.length;
  }

  /** Add a metrics point; return true if it was new (points with an old step are ignored). */
  add(point) {
    if (!point || !Number.isFinite(point.epoch)) return false;
    const step = Number.isFinite(point.step) ? point.step : this.lastStep + 1;
    if (step <= this.lastStep) return false;
    this.lastStep = step;
    this.x.push(point.epoch);
    FIELDS.forEach((f, k) => this.ys[k].push(Number.isFinite(point[f]) ? point[f] : null));
    if (this.x.length > this.cap) this.thin();
    return true;
  }

  /** Drop every other point that carries no test figure, from the older half. */
  thin() {
    const half = Math.floor(this.x.length / 2);
    const keep = this.x.map((_, i) => i >= half || i % 2 === 0 || this.ys[1][i] !== null);
    this.x = this.x.filter((_, i) => keep[i]);
    this.ys = this.ys.map((col) => col.filter((_, i) => keep[i]));
  }

  /** Return [x, ...columns of `fields`] for uPlot.setData. */
  columns(fields = FIELDS) {
    return [this.x, ...fields.map((f) => this.ys[FIELDS.indexOf(f)])];
  }
}
