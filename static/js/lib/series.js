// Columnar chart data (uPlot's shape: [[x...], [y...], ...]) built from metrics points, against
// examples seen. Points arrive several times a second for hours; past `cap` points we halve the
// older detail but keep the early climb and every point measured on the full test set.

export const FIELDS = ["batch_cost", "probe_cost", "test_cost", "probe_accuracy", "test_accuracy"];
const KEEP_FIRST = 200;   // the first climb is the story: never thinned

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

  /**
   * Add a metrics point; return true if it was new (points with an old step are ignored). x is
   * examples seen, at least 1 so that a log axis can hold the point taken before the first step.
   */
  add(point) {
    if (!point || !Number.isFinite(point.examples_seen)) return false;
    const step = Number.isFinite(point.step) ? point.step : this.lastStep + 1;
    if (step <= this.lastStep) return false;
    this.lastStep = step;
    this.x.push(Math.max(1, point.examples_seen));
    FIELDS.forEach((f, k) => this.ys[k].push(Number.isFinite(point[f]) ? point[f] : null));
    if (this.x.length > this.cap) this.thin();
    return true;
  }

  /** Drop every other point that carries no full-test figure, except the first climb and the newest quarter. */
  thin() {
    const half = this.x.length - Math.floor(this.cap / 4);
    const test = this.ys[FIELDS.indexOf("test_accuracy")];
    const keep = this.x.map((_, i) => i < KEEP_FIRST || i >= half || i % 2 === 0 || test[i] !== null);
    this.x = this.x.filter((_, i) => keep[i]);
    this.ys = this.ys.map((col) => col.filter((_, i) => keep[i]));
  }

  /** Return [x, ...columns of `fields`] for uPlot.setData. */
  columns(fields = FIELDS) {
    return [this.x, ...fields.map((f) => this.ys[FIELDS.indexOf(f)])];
  }

  /** Return the newest accuracy shown: {value, examples, kind: "probe" | "test"} or null. */
  latestAccuracy() {
    const probe = this.ys[FIELDS.indexOf("probe_accuracy")], test = this.ys[FIELDS.indexOf("test_accuracy")];
    for (let i = this.x.length - 1; i >= 0; i--) {
      if (probe[i] !== null) return { value: probe[i], examples: this.x[i], kind: "probe" };
      if (test[i] !== null) return { value: test[i], examples: this.x[i], kind: "test" };
    }
    return null;
  }
}
