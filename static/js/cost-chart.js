// Live line charts (uPlot): the cost falling and the accuracy climbing, against examples seen.
// The x axis is logarithmic while the run is young (each tenfold of examples, 100, 1k, 10k, gets the
// same width, so the first fast climb is visible) and linear later, unless the viewer picks one.
// The probe (a fixed 1,000 test images, measured often) is the line; the full test set (10,000,
// measured at epoch ends) the dots. Redraws at most once per animation frame.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { Series } from "./lib/series.js";
import { perFrame } from "./lib/throttle.js";

const AXIS = { stroke: "#101418", grid: { stroke: "#dde2e7" }, ticks: { stroke: "#c5ccd3" } };
const YOUNG = 200_000;      // examples seen (a bit over 3 epochs): "auto" shows log below, linear above
const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

/** Return the chart text size in px: large enough to read from the back of a room on a projector. */
function fontPx() {
  const root = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  return Math.round(root * (document.body.classList.contains("presenting") ? 1.15 : 0.95));
}

function options(el, { lines, yLabel, yFormat, yRange, log, cursorX }) {
  const px = fontPx();
  const font = `${px}px system-ui, sans-serif`;
  const xValues = (u, vals) => vals.map((v) => (v === null ? "" : compact.format(v)));
  return {
    width: Math.max(200, el.clientWidth),
    height: Math.max(150, el.clientHeight),
    legend: { show: true, live: false },
    cursor: { show: false },
    scales: { x: { time: false, ...(log ? { distr: 3, log: 10, range: logRange } : {}) },
      y: yRange ? { range: yRange } : { auto: true } },
    axes: [
      { ...AXIS, font, labelFont: font, label: `examples seen${log ? " (log scale)" : ""}`, values: xValues,
        size: px * 2.2, labelSize: px * 1.5, space: px * 4 },
      { ...AXIS, font, labelFont: font, label: yLabel, values: yFormat, size: px * 3.4, labelSize: px * 1.5,
        space: px * 1.8 },
    ],
    series: [{ label: "examples" }, ...lines.map((l) => ({ spanGaps: true, points: { show: false }, ...l }))],
    hooks: { draw: [(u) => drawCursor(u, cursorX())] },
  };
}

/** The log x range: from the first point to a little past the newest, not to the next power of ten. */
function logRange(u, min, max) {
  const lo = Math.max(1, Number.isFinite(min) ? min : 1);
  return [lo, Math.max(lo * 10, (Number.isFinite(max) ? max : 10) * 1.3)];
}

/** A vertical line where the replay stands (x = examples seen), or nothing. */
function drawCursor(u, x) {
  if (!Number.isFinite(x)) return;
  const left = u.valToPos(Math.max(1, x), "x", true);
  const { top, height } = u.bbox;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = "#7c3aed";
  ctx.lineWidth = 3 * devicePixelRatio;
  ctx.setLineDash([8 * devicePixelRatio, 6 * devicePixelRatio]);
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, top + height);
  ctx.stroke();
  ctx.restore();
}

class LineChart {
  constructor(el, fields, spec, owner) {
    this.el = el;
    this.fields = fields;
    this.spec = spec;
    this.owner = owner;
    this.renders = 0;
    this.build();
    this.draw = perFrame(() => {
      this.plot.setData(this.owner.series.columns(this.fields));
      this.fit();
      this.renders += 1;
    });
    new ResizeObserver(() => this.fit()).observe(el);
  }

  build() {
    this.plot?.destroy();
    this.fontPx = fontPx();   // the axes' text size, for the tests (>= 20 px on a projector)
    const opts = options(this.el, { ...this.spec, log: this.owner.log, cursorX: () => this.owner.cursorX });
    this.plot = new uPlot(opts, this.owner.series.columns(this.fields), this.el);
    this.fit();
  }

  /** Fill the element: the plot takes its height less the legend's (the legend sits below the plot). */
  fit() {
    const legend = this.plot.root.querySelector(".u-legend")?.offsetHeight ?? 0;
    const size = { width: Math.max(200, this.el.clientWidth), height: Math.max(150, this.el.clientHeight - legend - 4) };
    if (size.width !== this.plot.width || size.height !== this.plot.height) this.plot.setSize(size);
  }

  update() {
    this.el.dataset.points = String(this.owner.series.length);
    this.draw();
  }

  /** Return the plot area (without axes and legend) in CSS pixels. */
  area() {
    return { width: this.plot.bbox.width / devicePixelRatio, height: this.plot.bbox.height / devicePixelRatio };
  }
}

export class LearningCharts {
  /** nowEl: where the latest accuracy is written ("47.3%"); scaleEl: the log/linear toggle's button. */
  constructor(costEl, accuracyEl, nowEl, scaleEl) {
    this.series = new Series();
    this.nowEl = nowEl;
    this.scaleEl = scaleEl;
    this.scale = "auto";   // "auto" | "log" | "linear"
    this.log = true;
    this.cursorX = null;
    // The training batches' cost is left out: it is a smoothed average of a few images at a time that
    // lags the probe by hundreds of steps early on, and reads as a second, contradicting curve to a
    // class. The Step panel shows one batch's cost before and after.
    this.cost = new LineChart(costEl, ["probe_cost", "test_cost"], {
      lines: [
        { label: "probe: 1,000 test images", stroke: "#c2410c", width: 3 },
        { label: "full test set (10,000)", stroke: "#1b4f9c", width: 1, points: { show: true, size: 7 } },
      ], yLabel: "cost", yFormat: null, yRange: null,
    }, this);
    const pct = (u, vals) => vals.map((v) => `${Math.round(v * 100)}%`);
    this.accuracy = new LineChart(accuracyEl, ["probe_accuracy", "test_accuracy"], {
      lines: [
        { label: "probe: 1,000 test images", stroke: "#166534", width: 3 },
        { label: "full test set (10,000)", stroke: "#1b4f9c", width: 1, points: { show: true, size: 7 } },
      ], yLabel: "accuracy", yFormat: pct, yRange: () => [0, 1],
    }, this);
  }

  /** Start over (another run is watched); points: its history so far. */
  reset(points = []) {
    this.series.reset();
    for (const p of points) this.series.add(p);
    this.cursorX = null;
    this.redraw();
  }

  /** point: one metrics message. */
  update(point) {
    if (this.series.add(point)) this.redraw();
  }

  /** Return the probe's accuracy points as [[examples seen], [accuracy]] (for the tests). */
  accuracyPoints() {
    const [x, y] = this.series.columns(["probe_accuracy"]);
    const keep = y.map((v) => v !== null);
    return [x.filter((_, i) => keep[i]), y.filter((_, i) => keep[i])];
  }

  /** Set the x axis: "auto" (log while the run is young), "log" or "linear". */
  setScale(scale) {
    this.scale = scale;
    this.redraw();
  }

  /** Show where the replay stands (examples seen), or null for none. */
  setCursor(x) {
    this.cursorX = x;
    this.cost.plot.redraw(false, false);
    this.accuracy.plot.redraw(false, false);
  }

  /** Rebuild both plots (text size changes, e.g. in presentation mode). */
  rebuild() {
    this.cost.build();
    this.accuracy.build();
    this.redraw();
  }

  redraw() {
    const wantLog = this.scale === "log" || (this.scale === "auto" && (this.series.x.at(-1) ?? 0) < YOUNG);
    if (wantLog !== this.log) {
      this.log = wantLog;
      this.cost.build();
      this.accuracy.build();
    }
    this.cost.update();
    this.accuracy.update();
    if (this.scaleEl) this.scaleEl.textContent = `x: ${this.log ? "log" : "linear"}`;
    const now = this.series.latestAccuracy();
    if (this.nowEl) {
      this.nowEl.textContent = now ? `${(now.value * 100).toFixed(1)}%` : "–";
      this.nowEl.title = now ? `${now.kind === "probe" ? "on 1,000 test images" : "on the full test set"}` +
        ` after ${now.examples.toLocaleString("en")} examples` : "no accuracy measured yet";
    }
  }
}
