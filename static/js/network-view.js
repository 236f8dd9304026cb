// The hidden layers' activations: one strip per layer, one cell per neuron, dark = active.
// Drawn at one pixel per neuron and scaled by CSS, so 16 or 1024 neurons cost the same.
import { sequential } from "./lib/palette.js";
import { perFrame } from "./lib/throttle.js";

const PER_ROW = 32;

export class NetworkView {
  constructor(root) {
    this.root = root;
    this.layers = [];     // [{canvas, ctx, image, n}]
    this.update = perFrame((layers) => this.render(layers));
  }

  /** Build one strip per hidden layer if the layer sizes changed. */
  shape(sizes) {
    if (sizes.length === this.layers.length && sizes.every((n, k) => this.layers[k].n === n)) return;
    this.root.replaceChildren();
    this.layers = sizes.map((n, k) => {
      const box = document.createElement("div");
      box.className = "layer";
      const cols = Math.min(n, PER_ROW), rows = Math.ceil(n / cols);
      box.innerHTML = `<h3>Hidden layer ${k + 1} <small>(${n} neurons)</small></h3>`;
      const canvas = document.createElement("canvas");
      canvas.width = cols;
      canvas.height = rows;
      canvas.style.aspectRatio = `${cols} / ${rows * (n <= PER_ROW ? 1.6 : 1)}`;
      canvas.style.maxHeight = n <= PER_ROW ? "3em" : "8em";
      canvas.dataset.layer = String(k + 1);
      box.append(canvas);
      this.root.append(box);
      const ctx = canvas.getContext("2d");
      return { canvas, ctx, image: ctx.createImageData(cols, rows), n };
    });
  }

  /** layers: the hidden layers' activations (arrays), or null to blank them. */
  render(layers) {
    if (!layers) {
      for (const l of this.layers) l.ctx.clearRect(0, 0, l.canvas.width, l.canvas.height);
      return;
    }
    this.shape(layers.map((a) => a.length));
    layers.forEach((acts, k) => {
      const { image, ctx } = this.layers[k];
      const top = Math.max(1, ...acts);   // relu activations are unbounded: scale to the largest
      image.data.fill(0);
      acts.forEach((a, i) => {
        const [r, g, b] = sequential(a / top);
        image.data.set([r, g, b, 255], i * 4);
      });
      ctx.putImageData(image, 0, 0);
    });
  }
}
