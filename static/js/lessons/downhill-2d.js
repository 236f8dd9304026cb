// Lesson 3: a cost surface over two inputs, as a map and in 3-D. The surface, the gradient under the
// pointer and each descent path come from the server (app/lessons/landscape.py); this module draws
// them. The learning rate's range is the server's own (GET /api/lessons/downhill/bounds).
import { sequential } from "../lib/palette.js";
import { throttle } from "../lib/throttle.js";
import { getJSON } from "./http.js";
import { BALL_COLOURS, Plot, logScale } from "./plot.js";
import { readSettings, saveSettings } from "./query.js";
import { Surface3D } from "./surface-3d.js";

const $ = (sel) => document.querySelector(sel);
const RATE_MIN = 0.01;
const SPEC = {
  lr: { type: "number", min: RATE_MIN, max: 10, default: 0.5 },   // max: replaced by the server's bound
  starts: { type: "name", pattern: /^-?\d+(\.\d+)?_-?\d+(\.\d+)?(,-?\d+(\.\d+)?_-?\d+(\.\d+)?){0,5}$/, default: "" },
};
const BANDS = 14;   // quantised colours read as contour bands
const KEY_STEP = 0.25;   // how far an arrow key moves the pointer on the map
let RATE = logScale(RATE_MIN, SPEC.lr.max);
let settings = readSettings(window.location.search, SPEC);
let surface = null, image = null, hover = null, paths = [], solid = null, cursor = [0.5, 0.5];

const plot = new Plot($("#plot-2d"), { x: [-4, 4], y: [-4, 4] }, () => draw(), 0);

function fmt(v, d = 3) { return Number.isFinite(v) ? v.toFixed(d) : "–"; }

/** Paint the surface once into a small offscreen canvas (one pixel per grid point). */
function paintSurface() {
  const n = surface.axis.length;
  const flat = surface.z.flat();
  const lo = Math.min(...flat), hi = Math.max(...flat);
  image = document.createElement("canvas");
  image.width = image.height = n;
  const ctx = image.getContext("2d");
  const img = ctx.createImageData(n, n);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      const t = Math.floor(((surface.z[row][col] - lo) / (hi - lo)) * BANDS) / BANDS;
      const [r, g, b] = sequential(1 - t);   // low cost = dark ink, high = paper
      const k = ((n - 1 - row) * n + col) * 4;  // row 0 is the bottom (y = -4)
      img.data.set([r, g, b, 255], k);
    }
  }
  ctx.putImageData(img, 0, 0);
}

function arrow(ctx, x0, y0, x1, y1, width, colour) {
  const a = Math.atan2(y1 - y0, x1 - x0), head = width * 4;
  ctx.strokeStyle = ctx.fillStyle = colour;
  ctx.lineWidth = width;
  ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(x1 + Math.cos(a) * head * 0.5, y1 + Math.sin(a) * head * 0.5);
  ctx.lineTo(x1 - Math.cos(a - 0.5) * head, y1 - Math.sin(a - 0.5) * head);
  ctx.lineTo(x1 - Math.cos(a + 0.5) * head, y1 - Math.sin(a + 0.5) * head);
  ctx.fill();
}

function draw() {
  const { ctx, width, height } = plot;
  ctx.clearRect(0, 0, width, height);
  if (!image) return;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(image, 0, 0, width, height);
  const lw = Math.max(2, width / 350);
  paths.forEach((p, k) => {
    ctx.strokeStyle = ctx.fillStyle = BALL_COLOURS[k % BALL_COLOURS.length];
    ctx.lineWidth = lw;
    ctx.beginPath();
    p.points.forEach(([x, y], i) => { const [px, py] = plot.toPx(x, y); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
    ctx.stroke();
    for (const [x, y] of p.points) { const [px, py] = plot.toPx(x, y); ctx.beginPath(); ctx.arc(px, py, lw * 1.2, 0, 7); ctx.fill(); }
  });
  if (hover) {
    const [gx, gy] = hover.gradient, norm = Math.hypot(gx, gy);
    const [px, py] = plot.toPx(...hover.point);
    if (norm > 1e-9) {
      const len = Math.min(width / 6, (width / 12) * Math.sqrt(norm / 0.5));   // longer when steeper
      arrow(ctx, px, py, px - (gx / norm) * len, py + (gy / norm) * len, lw * 1.3, "#c2410c");
    }
    ctx.fillStyle = "#fff";
    ctx.beginPath(); ctx.arc(px, py, lw * 2, 0, 7); ctx.fill();
  }
}

function showHover(data) {
  hover = data;
  const [gx, gy] = data.gradient, imp = data.importance;
  $("#at-point").textContent = `(${fmt(data.point[0], 2)}, ${fmt(data.point[1], 2)})`;
  $("#at-value").textContent = fmt(data.value);
  $("#at-gradient").textContent = `(${fmt(gx)}, ${fmt(gy)})`;
  solid?.setCursor({ point: data.point, value: data.value });
  $("#at-importance").textContent = imp.more === "neither" ? "Flat here: no nudge changes the cost."
    : `A nudge to ${imp.more} matters ${imp.ratio === null ? "infinitely" : fmt(imp.ratio, 1)} times as much as one to ${imp.more === "x" ? "y" : "x"} `
      + `(${Math.round(100 * imp.x_share)}% x, ${Math.round(100 * imp.y_share)}% y).`;
  draw();
}

const look = throttle(async (x, y) => {
  try { showHover(await getJSON("/api/lessons/downhill/2d", { x: x.toFixed(3), y: y.toFixed(3), steps: 0 })); }
  catch (err) { showError(err); }
}, 50);

async function descend(x, y) {
  const data = await getJSON("/api/lessons/downhill/2d", { x: x.toFixed(3), y: y.toFixed(3), learning_rate: settings.lr, steps: 500 });
  const p = data.path;
  paths.push({ start: [x, y], points: p.points, values: p.values });
  if (paths.length > 6) paths.shift();
  $("#path-steps").textContent = String(p.steps);
  $("#path-cost").textContent = `${fmt(p.values[0])} → ${fmt(p.values.at(-1))}`;
  const out = $("#path-outcome");
  out.textContent = { settled: "settled in a valley", moving: "still moving", diverged: "diverged" }[p.outcome];
  out.className = `outcome-${p.outcome}`;
  document.body.dataset.paths = String(paths.length);
  solid?.update(paths);
  showError(null);
  showHover(data);
}

/** Show an error beside the control it is about (the rate, else the map) and forget the last path:
 * a readout that still showed the old path would pass it off as this rate's. */
function showError(err) {
  const aboutRate = err?.fields?.includes("learning_rate");
  $("#rate-error").textContent = err && aboutRate ? err.message : "";
  $("#lesson-error").textContent = err && !aboutRate ? err.message : "";
  if (!err) return;
  for (const id of ["#path-steps", "#path-cost"]) $(id).textContent = "–";
  $("#path-outcome").textContent = "no path: see the message above";
  $("#path-outcome").className = "";
}

function remember() {
  settings.starts = paths.map((p) => `${p.start[0].toFixed(2)}_${p.start[1].toFixed(2)}`).join(",");
  saveSettings(settings, SPEC);
}

async function replay() {
  const starts = paths.map((p) => p.start);
  paths = [];
  for (const [x, y] of starts) await descend(x, y);
}

const inside = ([x, y]) => Math.abs(x) <= 4 && Math.abs(y) <= 4;

function setRate(value) {
  settings.lr = Number(value.toPrecision(3));
  $("#rate-value").textContent = settings.lr.toFixed(2);
  $("#rate").setAttribute("aria-valuetext", `learning rate ${settings.lr.toFixed(2)}`);
}

/** The map from the keyboard: arrows move the pointer, Enter or Space drops a ball there. */
function onMapKey(e) {
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  if (moves[e.key]) {
    e.preventDefault();
    cursor = cursor.map((v, i) => Math.max(-4, Math.min(4, v + moves[e.key][i] * KEY_STEP)));
    look(...cursor);
  } else if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    descend(...cursor).then(remember).catch(showError);
  }
}

async function start() {
  const [bounds, grid] = await Promise.all([getJSON("/api/lessons/downhill/bounds"),
    getJSON("/api/lessons/downhill/2d/surface", { n: 120 })]);
  SPEC.lr.max = bounds.learning_rate.max;
  RATE = logScale(RATE_MIN, SPEC.lr.max);
  settings = readSettings(window.location.search, SPEC);
  surface = grid;
  paintSurface();
  solid = new Surface3D($("#surface-3d"), surface, surface.range);
  const rate = $("#rate");
  rate.dataset.max = String(SPEC.lr.max);
  rate.value = String(RATE.toPos(settings.lr));
  setRate(settings.lr);
  rate.addEventListener("input", () => {
    setRate(Math.min(SPEC.lr.max, RATE.toValue(Number(rate.value))));
    saveSettings(settings, SPEC);
  });
  rate.addEventListener("change", () => replay().catch(showError));
  plot.canvas.addEventListener("pointermove", (e) => { const p = plot.fromEvent(e); if (inside(p)) { cursor = p; look(...p); } });
  plot.canvas.addEventListener("pointerdown", (e) => {
    const p = plot.fromEvent(e);
    if (inside(p)) descend(...p).then(remember).catch(showError);
  });
  plot.canvas.addEventListener("keydown", onMapKey);
  $("#clear-paths").addEventListener("click", () => { paths = []; remember(); solid.update(paths); draw(); });
  for (const s of settings.starts ? settings.starts.split(",") : []) await descend(...s.split("_").map(Number));
  if (!paths.length) showHover(await getJSON("/api/lessons/downhill/2d", { x: 0.5, y: 0.5, steps: 0 }));
  draw();
  document.body.dataset.loaded = "1";
}

start().catch((err) => { $("#lesson-error").textContent = err.message; });
