// A canvas with data coordinates: maps a domain to pixels (y up), keeps itself sharp on resize
// and high-DPI screens, and turns pointer events into data coordinates.

export class Plot {
  /** canvas: the <canvas>; domain: {x: [x0, x1], y: [y0, y1]}; onResize(): redraw everything. */
  constructor(canvas, domain, onResize, margin = 8) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.domain = domain;
    this.margin = margin;
    this.onResize = onResize;
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize(false);  // the caller draws once it is ready
  }

  resize(notify = true) {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
    this.dpr = dpr;
    if (w === this.canvas.width && h === this.canvas.height) return;
    this.canvas.width = w;
    this.canvas.height = h;
    if (notify) this.onResize?.();
  }

  get width() { return this.canvas.width; }
  get height() { return this.canvas.height; }

  /** Return [px, py] in canvas pixels for data (x, y). */
  toPx(x, y) {
    const m = this.margin * (this.dpr || 1);
    const [x0, x1] = this.domain.x, [y0, y1] = this.domain.y;
    return [m + ((x - x0) / (x1 - x0)) * (this.width - 2 * m), this.height - m - ((y - y0) / (y1 - y0)) * (this.height - 2 * m)];
  }

  /** Return data [x, y] under a pointer event. */
  fromEvent(e) {
    const r = this.canvas.getBoundingClientRect();
    const dpr = this.width / r.width;
    const m = this.margin * (this.dpr || 1);
    const px = (e.clientX - r.left) * dpr, py = (e.clientY - r.top) * dpr;
    const [x0, x1] = this.domain.x, [y0, y1] = this.domain.y;
    return [x0 + ((px - m) / (this.width - 2 * m)) * (x1 - x0), y0 + ((this.height - m - py) / (this.height - 2 * m)) * (y1 - y0)];
  }
}

/** Return a log-scale slider mapping: position 0..1000 <-> value in [lo, hi]. */
export function logScale(lo, hi) {
  const a = Math.log(lo), b = Math.log(hi);
  return {
    toValue: (pos) => Math.exp(a + (pos / 1000) * (b - a)),
    toPos: (v) => Math.round(((Math.log(v) - a) / (b - a)) * 1000),
  };
}

export const BALL_COLOURS = ["#c2410c", "#1b4f9c", "#166534", "#7e22ce", "#b45309", "#0e7490"];
