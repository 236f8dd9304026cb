// Lesson 2: gradient descent on a curve with several valleys. The curve, its slopes and every step
// come from the server (app/lessons/landscape.py); this module only draws and animates them.
import { getJSON } from "./http.js";
import { BALL_COLOURS, Plot, logScale } from "./plot.js";
import { readSettings, saveSettings } from "./query.js";

const $ = (sel) => document.querySelector(sel);
const SPEC = {
  lr: { type: "number", min: 0.005, max: 3, default: 0.1 },
  x: { type: "name", pattern: /^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){0,5}$/, default: "" },
};
const RATE = logScale(0.005, 3);
const STEP_MS = 90;
const settings = readSettings(window.location.search, SPEC);
let curve = null;
let balls = [];   // {x0, path, shown, colour}
let aim = null;   // where the keyboard will drop the next ball (null until an arrow key is pressed)
const AIM_STEP = 0.1;

const plot = new Plot($("#plot-1d"), { x: [-5, 5], y: [0, 8] }, () => draw(), 12);

function fmt(v, d = 3) { return Number.isFinite(v) ? v.toFixed(d) : "–"; }

function draw() {
  const { ctx, width, height } = plot;
  ctx.clearRect(0, 0, width, height);
  if (!curve) return;
  const lw = Math.max(2, width / 500);
  ctx.lineWidth = lw;
  ctx.strokeStyle = "#101418";
  ctx.beginPath();
  curve.x.forEach((x, i) => { const [px, py] = plot.toPx(x, curve.f[i]); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
  ctx.stroke();
  for (const b of balls) drawBall(b, lw);
  if (aim !== null) drawAim(lw);
}

/** A dashed line where Enter will drop the ball. */
function drawAim(lw) {
  const { ctx, height } = plot;
  const [px] = plot.toPx(aim, 0);
  ctx.save();
  ctx.setLineDash([lw * 3, lw * 3]);
  ctx.strokeStyle = "#101418";
  ctx.lineWidth = lw;
  ctx.beginPath(); ctx.moveTo(px, 0); ctx.lineTo(px, height); ctx.stroke();
  ctx.restore();
}

/** The curve from the keyboard: arrows move the aim (Shift: further), Enter or Space drops a ball. */
function onKey(e) {
  const dir = { ArrowLeft: -1, ArrowRight: 1, ArrowDown: -1, ArrowUp: 1 }[e.key];
  if (dir) {
    e.preventDefault();
    aim = Math.max(-5, Math.min(5, (aim ?? 0) + dir * AIM_STEP * (e.shiftKey ? 5 : 1)));
    $("#aim").textContent = `Enter drops a ball at x = ${aim.toFixed(2)}`;
    draw();
  } else if ((e.key === "Enter" || e.key === " ") && aim !== null) {
    e.preventDefault();
    drop(aim).then(remember);
  }
}

function drawBall(b, lw) {
  const { ctx } = plot;
  const pts = b.path.points.slice(0, b.shown + 1);
  const vals = b.path.values;
  ctx.strokeStyle = b.colour;
  ctx.fillStyle = b.colour;
  ctx.globalAlpha = 0.55;
  ctx.lineWidth = lw * 0.75;
  ctx.beginPath();
  pts.forEach((p, i) => { const [px, py] = plot.toPx(p[0], vals[i]); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
  ctx.stroke();
  pts.forEach((p, i) => { const [px, py] = plot.toPx(p[0], vals[i]); ctx.beginPath(); ctx.arc(px, py, lw * 1.4, 0, 7); ctx.fill(); });
  ctx.globalAlpha = 1;
  const last = pts.length - 1;
  const [px, py] = plot.toPx(pts[last][0], vals[last]);
  ctx.beginPath();
  ctx.arc(px, Math.max(lw * 6, Math.min(plot.height - lw * 6, py)) - lw * 4, lw * 5, 0, 7);
  ctx.fill();
}

function describe(b, slope) {
  const p = b.path;
  $("#ball-start").textContent = fmt(b.x0, 2);
  $("#ball-slope").textContent = fmt(slope);
  $("#ball-first-step").textContent = p.points.length > 1 ? fmt(p.points[1][0] - p.points[0][0]) : "–";
  $("#ball-steps").textContent = String(p.steps);
  $("#ball-end").textContent = fmt(p.points.at(-1)[0]);
  const out = $("#ball-outcome");
  out.textContent = { settled: "settled in a valley", moving: "still bouncing", diverged: "diverged: flew off" }[p.outcome];
  out.className = `outcome-${p.outcome}`;
}

async function drop(x0, animate = true) {
  try {
    const data = await getJSON("/api/lessons/downhill/1d", { x0: x0.toFixed(3), learning_rate: settings.lr, steps: 300 });
    const ball = { x0, path: data.path, shown: animate ? 0 : data.path.points.length - 1, colour: BALL_COLOURS[balls.length % BALL_COLOURS.length] };
    balls.push(ball);
    if (balls.length > 6) balls.shift();
    describe(ball, data.slope);
    document.body.dataset.balls = String(balls.length);
    if (animate) {
      const timer = setInterval(() => {
        ball.shown += 1;
        if (ball.shown >= ball.path.points.length - 1) clearInterval(timer);
        draw();
      }, STEP_MS);
    }
    draw();
    $("#lesson-error").textContent = "";
  } catch (err) { $("#lesson-error").textContent = err.message; }
}

function remember() {
  settings.x = balls.map((b) => b.x0.toFixed(2)).join(",");
  saveSettings(settings, SPEC);
}

async function replay() {
  const starts = balls.map((b) => b.x0);
  balls = [];
  for (const x0 of starts) await drop(x0, false);
  draw();
}

async function start() {
  const data = await getJSON("/api/lessons/downhill/1d", { steps: 0 });
  curve = data.curve;
  const lo = Math.min(...curve.f), hi = Math.max(...curve.f);
  plot.domain = { x: data.x_range, y: [lo - 0.4, hi + 0.6] };
  $("#minima").textContent = data.minima.map((m) => m.toFixed(2)).join(", ");
  const rate = $("#rate");
  rate.value = String(RATE.toPos(settings.lr));
  $("#rate-value").textContent = settings.lr.toFixed(3);
  rate.addEventListener("input", () => {
    settings.lr = Number(RATE.toValue(Number(rate.value)).toPrecision(3));
    $("#rate-value").textContent = settings.lr.toFixed(3);
    saveSettings(settings, SPEC);
  });
  rate.addEventListener("change", () => replay());
  plot.canvas.addEventListener("pointerdown", (e) => {
    const [x] = plot.fromEvent(e);
    if (x >= -5 && x <= 5) drop(x).then(remember);
  });
  plot.canvas.addEventListener("keydown", onKey);
  $("#clear-balls").addEventListener("click", () => { balls = []; remember(); draw(); });
  for (const x0 of settings.x ? settings.x.split(",").map(Number) : []) await drop(x0, false);
  draw();
  document.body.dataset.loaded = "1";
}

start().catch((err) => { $("#lesson-error").textContent = err.message; });
