// The drawing canvas: pointer events (mouse, touch, pen), strokes kept in canvas-relative units
// (0..1) so a resize or a device-pixel-ratio change redraws them crisply.
// The brush is thick with a soft edge, like a felt pen: what MNIST's scanned digits look like.

const BRUSH = 0.075;     // stroke width as a fraction of the canvas width
const SOFT = 0.018;      // blur of the stroke edge, same units

export class DrawCanvas {
  /** canvas: the <canvas>; onChange(strokes, {done}) is called on every new point and at stroke end. */
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.strokes = [];
    this.active = null;     // pointerId of the stroke being drawn
    this.listen();
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  listen() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.down(e));
    c.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      c.addEventListener(type, (e) => this.up(e));
    }
    c.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height };
  }

  down(e) {
    if (this.active !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    this.active = e.pointerId;
    this.canvas.setPointerCapture?.(e.pointerId);
    this.strokes.push([this.point(e)]);
    this.redraw();
    this.onChange(this.strokes, { done: false });
  }

  move(e) {
    if (e.pointerId !== this.active) return;
    e.preventDefault();
    const stroke = this.strokes[this.strokes.length - 1];
    // Coalesced events keep fast strokes smooth (the browser batches moves per frame).
    const events = e.getCoalescedEvents?.() ?? [];
    for (const ev of events.length ? events : [e]) stroke.push(this.point(ev));
    this.redraw();
    this.onChange(this.strokes, { done: false });
  }

  up(e) {
    if (e.pointerId !== this.active) return;
    this.active = null;
    this.onChange(this.strokes, { done: true });
  }

  clear() {
    this.strokes = [];
    this.active = null;
    this.redraw();
    this.onChange(this.strokes, { done: true });
  }

  get empty() {
    return this.strokes.length === 0;
  }

  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.redraw();
    }
  }

  /** Paint every stroke again (cheap: a digit is a few hundred points). */
  redraw() {
    const { ctx, canvas } = this;
    const w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    ctx.fillStyle = "#111";
    ctx.lineWidth = BRUSH * w;
    ctx.shadowColor = "rgba(17, 17, 17, 0.9)";
    ctx.shadowBlur = SOFT * w;
    for (const stroke of this.strokes) {
      ctx.beginPath();
      ctx.moveTo(stroke[0].x * w, stroke[0].y * h);
      if (stroke.length === 1) ctx.lineTo(stroke[0].x * w + 0.01, stroke[0].y * h);
      for (const p of stroke) ctx.lineTo(p.x * w, p.y * h);
      ctx.stroke();
    }
  }

  /** Nothing to show from the server: the canvas is the user's. */
  update() {}
}
