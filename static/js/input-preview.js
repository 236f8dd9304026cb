// "What the network sees": the 784 input numbers as a 28x28 picture, white ink on black as in
// the video, drawn at data resolution and scaled by CSS (image-rendering: pixelated).
import { perFrame } from "./lib/throttle.js";

export class InputPreview {
  constructor(canvas) {
    this.ctx = canvas.getContext("2d");
    this.image = this.ctx.createImageData(28, 28);
    this.update = perFrame((pixels) => this.render(pixels));
  }

  /** pixels: 784 numbers in 0..1 (or 28 rows of 28), or null for a blank input. */
  render(pixels) {
    const flat = pixels && Array.isArray(pixels[0]) ? pixels.flat() : pixels;
    const d = this.image.data;
    for (let i = 0; i < 784; i++) {
      const v = flat ? Math.round(255 * Math.max(0, Math.min(1, flat[i]))) : 0;
      d[i * 4] = d[i * 4 + 1] = d[i * 4 + 2] = v;
      d[i * 4 + 3] = 255;
    }
    this.ctx.putImageData(this.image, 0, 0);
  }
}
