// The first-layer weights of 16 hidden neurons, each as a 28x28 picture: what pattern of ink
// excites (blue) or inhibits (red) that neuron. Drawn at 28x28 with putImageData and scaled up
// by CSS (image-rendering: pixelated); colours come from one lookup table of the int8 codes.
// Each picture gets its own contrast (its 98th percentile of |w| is full colour): the server's
// shared scale is set by a few extreme weights and would leave most pictures nearly blank.
// Zero stays the neutral grey whatever the contrast, so the sign of every weight still reads.
import { decodeWeights, robustRange } from "./lib/weights.js";
import { int8Lut } from "./lib/palette.js";
import { perFrame } from "./lib/throttle.js";

export const DEFAULT_NEURONS = Array.from({ length: 16 }, (_, i) => i);

export class Heatmaps {
  /**
   * root: the #weight-heatmaps element; scaleEl: where the colour scale's range is written, in the
   * words of label(scale).
   */
  constructor(root, scaleEl, label = (scale) => `(largest weight ±${scale.toFixed(1)})`) {
    this.root = root;
    this.scaleEl = scaleEl;
    this.label = label;
    this.lut = int8Lut();
    this.cells = [];
    this.updates = 0;
    this.build(DEFAULT_NEURONS, 28, 28);
    this.update = perFrame((msg) => this.render(msg));
  }

  build(neurons, width, height) {
    this.root.replaceChildren();
    this.cells = neurons.map((n) => {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.dataset.neuron = String(n);
      canvas.title = `hidden neuron ${n + 1}`;
      this.root.append(canvas);
      const ctx = canvas.getContext("2d");
      return { n, canvas, ctx, image: ctx.createImageData(width, height) };
    });
  }

  /** msg: a "weights" live message (docs/api.md); bad messages are logged and skipped. */
  render(msg) {
    let w;
    try {
      w = decodeWeights(msg);
    } catch (err) {
      console.warn("weights message skipped:", err.message);
      return;
    }
    const same = w.neurons.length === this.cells.length && w.neurons.every((n, k) => this.cells[k].n === n)
      && this.cells[0]?.canvas.width === w.width;
    if (!same) this.build(w.neurons, w.width, w.height);
    w.maps.forEach((codes, k) => this.paint(this.cells[k], codes));
    this.updates += 1;
    this.root.dataset.step = String(w.step ?? "");
    if (this.scaleEl) this.scaleEl.textContent = this.label(w.scale);
  }

  /** Draw one neuron's int8 codes, stretched so its 98th percentile reaches the palette's ends. */
  paint({ image, ctx }, codes) {
    const lut = this.lut, px = image.data;
    const gain = 127 / robustRange(codes);
    for (let i = 0; i < codes.length; i++) {
      const c = Math.max(-127, Math.min(127, Math.round(codes[i] * gain)));
      const j = (c + 128) * 4;
      px[i * 4] = lut[j]; px[i * 4 + 1] = lut[j + 1]; px[i * 4 + 2] = lut[j + 2]; px[i * 4 + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }
}
