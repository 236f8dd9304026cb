// Test helper: read the real MNIST test images (data/mnist/t10k-*.gz) with node's zlib, so the
// stroke-to-image tests compare against real digits, not against numbers we made up.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const DATA = fileURLToPath(new URL("../../data/mnist/", import.meta.url));

/** Return {images: Float32Array[] (784 each, 0..1), labels: number[]} of the 10,000 test digits. */
export function loadTestDigits() {
  const img = gunzipSync(readFileSync(`${DATA}t10k-images-idx3-ubyte.gz`));
  const lab = gunzipSync(readFileSync(`${DATA}t10k-labels-idx1-ubyte.gz`));
  const n = img.readUInt32BE(4);
  const images = [];
  for (let k = 0; k < n; k++) {
    images.push(Float32Array.from(img.subarray(16 + k * 784, 16 + (k + 1) * 784), (v) => v / 255));
  }
  return { images, labels: Array.from(lab.subarray(8, 8 + n)) };
}

/** Return the value at quantile q (0..1) of the numbers. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export const inkSum = (pixels) => pixels.reduce((a, b) => a + b, 0);
