// The network as the video draws it: the 28x28 input the network sees, then each layer as a column
// of circles lit by its activation for the current drawing, joined by connections coloured by sign
// (blue +, red -) and drawn by strength. For the 784 inputs only each first-layer neuron's strongest
// pixels are joined (the `network` live message picks them). Layers wider than 16 show the 16 the
// server picked, and say so. One SVG; redrawn at most once per animation frame.
import { css, diverging, sequential } from "./lib/palette.js";
import { edgeStyle, layout, maxAbs, pixelCentre } from "./lib/network-layout.js";
import { perFrame } from "./lib/throttle.js";

const SVG = "http://www.w3.org/2000/svg";
const IDLE = "#e5e9ee";       // a neuron with no drawing to answer
const svg = (tag, attrs = {}) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
};

export class NetworkDiagram {
  /** root: #network-diagram; onPick(layer, index, activation) when a neuron is hovered or tapped. */
  constructor(root, onPick = () => {}) {
    this.root = root;
    this.onPick = onPick;
    this.sizes = null;       // [784, ...layers] of the network shown
    this.shown = null;       // per layer after the input: which neuron indices have a circle
    this.net = null;         // the newest `network` message
    this.acts = null;        // the newest activations, per layer after the input (full width)
    this.pixels = null;
    this.updates = 0;        // redraws (for bench/bench_page.py)
    this.answers = 0;        // redraws that showed new activations
    this.picked = null;
    this.svg = svg("svg", { role: "img", "aria-label": "The network: input, hidden layers and outputs" });
    this.root.replaceChildren(this.svg);
    this.preview = document.createElement("canvas");
    this.preview.width = this.preview.height = 28;
    this.render = perFrame(() => this.draw());
    // The picture is 1000 units wide and as tall as its box allows (taller in presentation mode).
    new ResizeObserver(() => {
      if (Math.abs(this.viewHeight() - (this.layout?.height ?? 0)) > 20) { this.key = null; this.render(); }
    }).observe(root);
  }

  viewHeight() {
    const w = this.root.clientWidth, h = this.root.clientHeight;
    return w > 0 && h > 0 ? Math.round(Math.max(480, Math.min(1400, (1000 * h) / w))) : 640;
  }

  /** msg: a `network` message (docs/api.md): sizes, shown neurons, connections. */
  setNetwork(msg) {
    if (!msg || !Array.isArray(msg.sizes) || !Array.isArray(msg.shown)) return;
    this.net = msg;
    this.render();
  }

  /** layers: activations of every layer after the input for the current drawing, or null. */
  setActivations(layers) {
    this.acts = Array.isArray(layers) && layers.length ? layers : null;
    this.render();
  }

  /** pixels: the 784 inputs (0..1) the network sees, or null. */
  setInput(pixels) {
    this.pixels = pixels;
    this.render();
  }

  /** Return the layer sizes and the shown indices: from the network message, else from the activations. */
  shape() {
    if (this.net) return { sizes: this.net.sizes, shown: this.net.shown };
    if (!this.acts) return null;
    const sizes = [784, ...this.acts.map((a) => a.length)];
    return { sizes, shown: this.acts.map((a) => Array.from({ length: Math.min(a.length, 16) }, (_, i) => i)) };
  }

  draw() {
    const shape = this.shape();
    if (!shape) return;
    const key = JSON.stringify(shape);
    const built = key !== this.key;
    if (built) this.build(shape, key);
    // Only what changed is repainted: drawing changes the input and the circles, not the ~600 lines.
    if (built || this.net !== this.paintedNet) this.paintEdges();
    this.paintNeurons();
    if (built || this.pixels !== this.paintedPixels) this.paintInput();
    this.paintedNet = this.net;
    this.paintedPixels = this.pixels;
    if (this.acts !== this.paintedActs) this.answers += 1;
    this.paintedActs = this.acts;
    this.updates += 1;
    this.root.dataset.updates = String(this.updates);
  }

  build({ sizes, shown }, key) {
    this.key = key;
    this.sizes = sizes;
    this.shown = shown;
    const l = this.layout = layout(shown.map((s) => s.length), this.viewHeight());
    this.svg.setAttribute("viewBox", `0 0 ${l.width} ${l.height}`);
    const title = (x, text, anchor = "middle") => svg("text", { x, y: 34, class: "layer-title", "text-anchor": anchor });
    const titles = [title(l.input.x, "", "start")];
    titles[0].textContent = "what it sees";
    l.columns.forEach((c, k) => {
      const t = title(c.x, "");
      const last = k === l.columns.length - 1, n = sizes[k + 1];
      t.textContent = last ? "output" : `layer ${k + 1}`;
      titles.push(t);
      if (n > shown[k].length) {   // a wide layer: the server picked the strongest neurons to show
        const sub = svg("text", { x: c.x, y: 62, class: "layer-sub", "text-anchor": "middle" });
        sub.textContent = `${shown[k].length} of ${n}`;
        titles.push(sub);
      }
    });
    this.image = svg("image", { x: l.input.x, y: l.input.y, width: l.input.size, height: l.input.size,
      preserveAspectRatio: "none", class: "input-image" });
    const frame = svg("rect", { x: l.input.x, y: l.input.y, width: l.input.size, height: l.input.size, class: "input-frame" });
    this.edgeGroups = [svg("g", { class: "edges in" }), ...l.columns.slice(1).map(() => svg("g", { class: "edges" }))];
    this.circles = l.columns.map((c, k) => shown[k].map((index, i) => {
      const circle = svg("circle", { cx: c.x, cy: c.ys[i], r: c.r, class: "neuron", tabindex: "0",
        "data-layer": String(k + 1), "data-neuron": String(index) });
      circle.addEventListener("pointerenter", () => this.pick(k, i));
      circle.addEventListener("click", () => this.pick(k, i));
      circle.addEventListener("focus", () => this.pick(k, i));
      return circle;
    }));
    const outputs = l.columns.at(-1);
    this.digits = shown.at(-1).map((d, i) => {
      const t = svg("text", { x: outputs.x + outputs.r + 12, y: outputs.ys[i] + 9, class: "digit-label" });
      t.textContent = String(d);
      return t;
    });
    this.svg.replaceChildren(...titles, ...this.edgeGroups, this.image, frame, ...this.circles.flat(), ...this.digits);
  }

  /** Lines: the strongest input pixels of each first-layer neuron, then every pair of shown neurons. */
  paintEdges() {
    const net = this.net, l = this.layout;
    if (!net) return;
    const inputs = Array.isArray(net.inputs) ? net.inputs : [];
    const inScale = maxAbs(inputs.map((n) => n.weights ?? []));
    const lines = [];
    for (const n of inputs) {
      const i = this.shown[0].indexOf(n.neuron);
      if (i < 0) continue;
      (n.pixels ?? []).forEach((k, j) => {
        const p = pixelCentre(l.input, k);
        lines.push([p.x, p.y, l.columns[0].x - l.columns[0].r, l.columns[0].ys[i], n.weights[j], inScale]);
      });
    }
    this.lines(this.edgeGroups[0], lines);
    (net.weights ?? []).forEach((matrix, m) => {
      const from = l.columns[m], to = l.columns[m + 1];
      if (!from || !to || !this.edgeGroups[m + 1]) return;
      const scale = maxAbs(matrix), out = [];
      matrix.forEach((row, o) => row.forEach((w, i) => {
        if (from.ys[i] !== undefined && to.ys[o] !== undefined) out.push([from.x + from.r, from.ys[i], to.x - to.r, to.ys[o], w, scale]);
      }));
      out.sort((a, b) => Math.abs(a[4]) - Math.abs(b[4]));   // the strong ones on top
      this.lines(this.edgeGroups[m + 1], out);
    });
  }

  /** Reuse the group's <line> elements for `specs` [x1, y1, x2, y2, w, scale]. */
  lines(group, specs) {
    while (group.childElementCount < specs.length) group.append(svg("line"));
    while (group.childElementCount > specs.length) group.lastChild.remove();
    specs.forEach(([x1, y1, x2, y2, w, scale], k) => {
      const line = group.children[k], s = edgeStyle(w, scale);
      line.setAttribute("x1", x1); line.setAttribute("y1", y1);
      line.setAttribute("x2", x2); line.setAttribute("y2", y2);
      line.setAttribute("stroke", s.colour);
      line.setAttribute("stroke-width", s.width.toFixed(2));
      line.setAttribute("stroke-opacity", s.opacity.toFixed(2));
    });
  }

  paintNeurons() {
    const acts = this.acts;
    const winner = acts ? argmax(acts.at(-1)) : -1;
    this.circles.forEach((layer, k) => {
      const a = acts?.[k];
      const top = a ? Math.max(1, ...a.filter(Number.isFinite)) : 1;   // relu is unbounded: scale to the largest
      layer.forEach((circle, i) => {
        const v = a?.[this.shown[k][i]];
        circle.setAttribute("fill", Number.isFinite(v) ? css(sequential(v / top)) : IDLE);
        circle.dataset.activation = Number.isFinite(v) ? v.toFixed(3) : "";
      });
    });
    this.digits?.forEach((t, i) => t.classList.toggle("win", this.shown.at(-1)[i] === winner));
    this.circles.at(-1)?.forEach((c, i) => c.classList.toggle("win", this.shown.at(-1)[i] === winner));
  }

  paintInput() {
    const ctx = this.preview.getContext("2d");
    const image = ctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = Math.round(255 * Math.max(0, Math.min(1, this.pixels?.[i] ?? 0)));   // white ink on black, as MNIST
      image.data.set([v, v, v, 255], i * 4);
    }
    ctx.putImageData(image, 0, 0);
    this.image.setAttribute("href", this.preview.toDataURL());
  }

  pick(k, i) {
    const index = this.shown[k][i];
    const v = this.acts?.[k]?.[index];
    this.picked = { layer: k + 1, index };
    for (const c of this.circles.flat()) c.classList.toggle("picked", c.dataset.layer === String(k + 1) && c.dataset.neuron === String(index));
    this.onPick(k + 1, index, Number.isFinite(v) ? v : null, k === this.circles.length - 1);
  }
}

function argmax(values) {
  let best = -1, top = -Infinity;
  (values ?? []).forEach((v, i) => { if (v > top) { top = v; best = i; } });
  return best;
}

/** Paint a 28x28 map of real numbers on a canvas, red negative, blue positive, its own contrast. */
export function paintMap(canvas, map) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  const scale = maxAbs(map) || 1;
  map.forEach((w, i) => image.data.set([...diverging(w / scale), 255], i * 4));
  ctx.putImageData(image, 0, 0);
}
