// Live line charts (uPlot): the training cost falling and the test accuracy rising, against
// epochs. Points are collected in a Series; the chart redraws at most once per animation frame.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { Series } from "./lib/series.js";
import { perFrame } from "./lib/throttle.js";

const AXIS = { stroke: "#101418", grid: { stroke: "#dde2e7" }, ticks: { stroke: "#c5ccd3" } };

function axes(font, yLabel, yFormat) {
  return [
    { ...AXIS, font, labelFont: font, label: "epoch", size: 48, labelSize: 24 },
    { ...AXIS, font, labelFont: font, label: yLabel, size: 64, labelSize: 24, values: yFormat, space: 24 },
  ];
}

/** Return the options of one chart: `lines` = [{label, stroke, width, dash}] after the x series. */
function options(el, lines, yLabel, yFormat, yRange) {
  const px = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const font = `${Math.round(px * 0.75)}px system-ui, sans-serif`;
  return {
    width: Math.max(200, el.clientWidth),
    height: Math.max(120, el.clientHeight - 36),
    legend: { show: true, live: false },
    cursor: { show: false },
    scales: { x: { time: false }, y: yRange ? { range: yRange } : { auto: true } },
    axes: axes(font, yLabel, yFormat),
    series: [{ label: "epoch" }, ...lines.map((l) => ({ spanGaps: true, points: { show: false }, ...l }))],
  };
}

class LineChart {
  constructor(el, fields, lines, yLabel, yFormat, yRange) {
    this.el = el;
    this.fields = fields;
    this.series = null;
    this.plot = new uPlot(options(el, lines, yLabel, yFormat, yRange), [[], ...fields.map(() => [])], el);
    this.renders = 0;
    this.draw = perFrame(() => {
      this.plot.setData(this.series.columns(this.fields));
      this.renders += 1;
    });
    new ResizeObserver(() => {
      this.plot.setSize({ width: Math.max(200, el.clientWidth), height: Math.max(120, el.clientHeight - 36) });
    }).observe(el);
  }

  /** series: the shared Series (already holding the new point). */
  update(series) {
    this.series = series;
    this.el.dataset.points = String(series.length);
    this.draw();
  }
}

export class LearningCharts {
  constructor(costEl, accuracyEl) {
    this.series = new Series();
    this.cost = new LineChart(costEl, ["batch_cost", "test_cost"], [
      { label: "training (recent batches)", stroke: "#c2410c", width: 2 },
      { label: "test set", stroke: "#1b4f9c", width: 3 },
    ], "cost", null, null);
    const pct = (u, vals) => vals.map((v) => `${(v * 100).toFixed(0)}%`);
    this.accuracy = new LineChart(accuracyEl, ["test_accuracy"], [
      { label: "test accuracy", stroke: "#166534", width: 3 },
    ], "accuracy", pct, (u, min, max) => [Math.max(0, Math.min(min, 0.8) - 0.02), 1]);
  }

  /** Start over (another run is watched); points: its history so far. */
  reset(points = []) {
    this.series.reset();
    for (const p of points) this.series.add(p);
    this.redraw();
  }

  /** point: one metrics message. */
  update(point) {
    if (this.series.add(point)) this.redraw();
  }

  redraw() {
    this.cost.update(this.series);
    this.accuracy.update(this.series);
  }
}
