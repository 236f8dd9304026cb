// Lesson 3's cost surface in 3-D, drawn on a plain canvas: a grid of coloured quads painted back to
// front (the painter's algorithm), turned by dragging or the arrow keys, with each descent path
// laid on the surface and a ball rolling down the newest one.
import { sequential } from "../lib/palette.js";
import { BALL_COLOURS } from "./plot.js";

const GRID = 40;          // quads per side: smooth enough to read, cheap enough to redraw per frame
const HEIGHT = 0.7;       // the tallest point, in units of the half-width of the floor
const BANDS = 14;         // the map's colour bands, so the two pictures read alike
const STEP_MS = 70;       // one descent step per frame of this length...
const MAX_ROLL_MS = 5000; // ...unless the whole roll would take longer than this
const LIGHT = normalise([-0.4, 0.5, 0.8]);

function normalise(v) { const n = Math.hypot(...v); return v.map((c) => c / n); }

export class Surface3D {
  /** canvas: the <canvas>; surface: {axis, z} from /api/lessons/downhill/2d/surface (z[row=y][col=x]). */
  constructor(canvas, surface, range) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.range = range;
    this.yaw = -0.6;
    this.pitch = 0.75;
    this.paths = [];
    this.cursor = null;
    this.ball = null;       // {path, colour, start}
    this.setSurface(surface);
    this.bindControls();
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  setSurface({ axis, z }) {
    const n = axis.length, flat = z.flat();
    this.lo = Math.min(...flat);
    this.hi = Math.max(...flat);
    const pick = (k) => Math.round((k / GRID) * (n - 1));
    this.xs = Array.from({ length: GRID + 1 }, (_, k) => axis[pick(k)]);
    this.zs = Array.from({ length: GRID + 1 }, (_, r) => Array.from({ length: GRID + 1 }, (_, c) => z[pick(r)][pick(c)]));
  }

  resize() {
    const r = this.canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
    if (w !== this.canvas.width || h !== this.canvas.height) { this.canvas.width = w; this.canvas.height = h; }
    this.draw();
  }

  /** Turn the surface: yaw around the vertical, pitch from side-on (0) towards straight down. */
  turn(dYaw, dPitch) {
    this.yaw = (this.yaw + dYaw) % (2 * Math.PI);
    this.pitch = Math.min(1.45, Math.max(0.15, this.pitch + dPitch));
    this.canvas.dataset.yaw = this.yaw.toFixed(3);
    this.draw();
  }

  bindControls() {
    let drag = null;
    this.canvas.addEventListener("pointerdown", (e) => { drag = [e.clientX, e.clientY]; this.canvas.setPointerCapture(e.pointerId); });
    this.canvas.addEventListener("pointermove", (e) => {
      if (!drag) return;
      this.turn((e.clientX - drag[0]) * 0.01, (e.clientY - drag[1]) * 0.01);
      drag = [e.clientX, e.clientY];
    });
    const end = () => { drag = null; };
    this.canvas.addEventListener("pointerup", end);
    this.canvas.addEventListener("pointercancel", end);
    this.canvas.addEventListener("keydown", (e) => {
      const turns = { ArrowLeft: [-0.15, 0], ArrowRight: [0.15, 0], ArrowUp: [0, 0.1], ArrowDown: [0, -0.1] };
      if (!turns[e.key]) return;
      e.preventDefault();
      this.turn(...turns[e.key]);
    });
  }

  /** paths: [{points: [[x, y]...], values: [cost...]}], oldest first; the newest gets the ball. */
  update(paths) {
    // A diverging path flies off the surface: show it up to the edge of the picture.
    const [lo, hi] = this.range, inside = ([x, y]) => x >= lo && x <= hi && y >= lo && y <= hi;
    this.paths = paths.map((p) => {
      const n = p.points.findIndex((pt) => !inside(pt));
      return n < 0 ? p : { points: p.points.slice(0, Math.max(1, n)), values: p.values.slice(0, Math.max(1, n)) };
    });
    const last = this.paths.at(-1);
    this.ball = last ? { path: last, colour: BALL_COLOURS[(this.paths.length - 1) % BALL_COLOURS.length], start: performance.now() } : null;
    this.canvas.dataset.rolling = last ? "1" : "0";
    this.animate();
  }

  setCursor(point) { this.cursor = point; if (!this.frame) this.draw(); }

  animate() {
    if (this.frame) return;
    const tick = () => {
      this.frame = null;
      this.draw();
      if (this.ball && this.ballIndex() < this.ball.path.points.length - 1) this.frame = requestAnimationFrame(tick);
      else if (this.ball) this.canvas.dataset.rolling = "0";   // the ball has come to rest: tests wait for this
    };
    this.frame = requestAnimationFrame(tick);
  }

  ballIndex() {
    const { path, start } = this.ball, n = path.points.length - 1;
    const ms = Math.min(STEP_MS, MAX_ROLL_MS / Math.max(1, n));
    return Math.min(n, Math.floor((performance.now() - start) / ms));
  }

  /** Return [sx, sy, depth] in canvas pixels for data (x, y, cost). */
  project(x, y, cost) {
    const [x0, x1] = this.range;
    const u = ((x - x0) / (x1 - x0)) * 2 - 1, v = ((y - x0) / (x1 - x0)) * 2 - 1;
    const h = ((cost - this.lo) / (this.hi - this.lo)) * HEIGHT;
    const c = Math.cos(this.yaw), s = Math.sin(this.yaw);
    const xr = u * c - v * s, yr = u * s + v * c;
    const sy = yr * Math.sin(this.pitch) + h * Math.cos(this.pitch);
    const depth = yr * Math.cos(this.pitch) - h * Math.sin(this.pitch);
    const { width, height } = this.canvas, scale = Math.min(width, height) * 0.33;
    return [width / 2 + xr * scale, height * 0.6 - sy * scale, depth];
  }

  colour(cost, shade) {
    const t = Math.floor(((cost - this.lo) / (this.hi - this.lo)) * BANDS) / BANDS;
    const [r, g, b] = sequential(1 - t);
    const k = 0.55 + 0.45 * shade;
    return `rgb(${Math.round(r * k)},${Math.round(g * k)},${Math.round(b * k)})`;
  }

  quads() {
    const out = [], span = (this.range[1] - this.range[0]) / GRID, rise = (this.hi - this.lo) / HEIGHT;
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) {
        const corners = [[r, c], [r, c + 1], [r + 1, c + 1], [r + 1, c]].map(([i, j]) => this.project(this.xs[j], this.xs[i], this.zs[i][j]));
        const zq = (this.zs[r][c] + this.zs[r][c + 1] + this.zs[r + 1][c] + this.zs[r + 1][c + 1]) / 4;
        // The slope of this quad, for its shading (light from the upper left, fixed to the surface).
        const dzdx = ((this.zs[r][c + 1] - this.zs[r][c]) + (this.zs[r + 1][c + 1] - this.zs[r + 1][c])) / (2 * span * rise) * 0.5;
        const dzdy = ((this.zs[r + 1][c] - this.zs[r][c]) + (this.zs[r + 1][c + 1] - this.zs[r][c + 1])) / (2 * span * rise) * 0.5;
        const normal = normalise([-dzdx, -dzdy, 1]);
        const shade = Math.max(0, normal[0] * LIGHT[0] + normal[1] * LIGHT[1] + normal[2] * LIGHT[2]);
        out.push({ corners, depth: corners.reduce((a, p) => a + p[2], 0) / 4, fill: this.colour(zq, shade) });
      }
    }
    return out.sort((a, b) => b.depth - a.depth);   // far first
  }

  draw() {
    const { ctx, canvas } = this;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!this.zs) return;
    ctx.lineJoin = "round";
    for (const q of this.quads()) {
      ctx.fillStyle = ctx.strokeStyle = q.fill;
      ctx.lineWidth = 1;
      ctx.beginPath();
      q.corners.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.fill();
      ctx.stroke();   // hides the hairline seams between neighbouring quads
    }
    const lw = Math.max(2, canvas.width / 300);
    this.paths.forEach((p, k) => {
      ctx.strokeStyle = BALL_COLOURS[k % BALL_COLOURS.length];
      ctx.lineWidth = lw;
      ctx.beginPath();
      const upto = this.ball?.path === p ? this.ballIndex() : p.points.length - 1;
      p.points.slice(0, upto + 1).forEach(([x, y], i) => {
        const [sx, sy] = this.project(x, y, p.values[i] ?? this.hi);
        i ? ctx.lineTo(sx, sy) : ctx.moveTo(sx, sy);
      });
      ctx.stroke();
    });
    if (this.cursor) this.dot(this.cursor.point, this.cursor.value, lw * 1.6, "#fff", "#101418");
    if (this.ball) {
      const i = this.ballIndex(), p = this.ball.path;
      this.dot(p.points[i], p.values[i] ?? this.hi, lw * 3.6, this.ball.colour, "#101418");
      this.canvas.dataset.ballStep = String(i);
    }
  }

  dot([x, y], cost, radius, fill, edge) {
    const [sx, sy] = this.project(x, y, cost);
    const { ctx } = this;
    ctx.fillStyle = fill;
    ctx.strokeStyle = edge;
    ctx.lineWidth = Math.max(1.5, radius / 3);
    ctx.beginPath();
    ctx.arc(sx, sy - radius * 0.8, radius, 0, 2 * Math.PI);   // resting on the surface, not sunk into it
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = "rgba(255, 255, 255, 0.7)";   // a highlight, so it reads as a ball
    ctx.beginPath();
    ctx.arc(sx - radius * 0.35, sy - radius * 1.15, radius * 0.3, 0, 2 * Math.PI);
    ctx.fill();
  }
}
