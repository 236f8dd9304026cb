// A uPlot line chart of several runs against epochs (the studio's vendored uPlot, no CDN).
import uPlot from "../../vendor/uplot/uPlot.esm.js";
import { mergeColumns } from "./overlay.js";

const AXIS = { stroke: "#101418", grid: { stroke: "#dde2e7" }, ticks: { stroke: "#c5ccd3" } };

export class OverlayChart {
  /** el: the container; lines: [{label, stroke, dash?}]; yLabel; yRange: [lo, hi] or null. */
  constructor(el, lines, yLabel, yRange = null) {
    this.el = el;
    const px = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    const font = `${Math.round(px * 0.75)}px system-ui, sans-serif`;
    const size = () => ({ width: Math.max(200, el.clientWidth), height: Math.max(140, el.clientHeight - 40) });
    this.plot = new uPlot({
      ...size(),
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: { time: false }, y: yRange ? { range: yRange } : { auto: true } },
      axes: [{ ...AXIS, font, labelFont: font, label: "epoch", size: 44, labelSize: 22 },
        { ...AXIS, font, labelFont: font, label: yLabel, size: 60, labelSize: 22 }],
      series: [{ label: "epoch" }, ...lines.map((l) => ({ spanGaps: true, width: 2.5, points: { show: false }, ...l }))],
    }, [[], ...lines.map(() => [])], el);
    new ResizeObserver(() => this.plot.setSize(size())).observe(el);
  }

  /** lines: [{points, field}] in the order given to the constructor. */
  update(lines) {
    const data = mergeColumns(lines);
    this.plot.setData(data);
    this.el.dataset.points = String(data[0].length);
  }
}
