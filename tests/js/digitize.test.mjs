import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SIZE, BOX, bounds, centreOfMass, penInk, strokesToPixels,
} from "../../static/js/lib/digitize.js";
import { inkSum, loadTestDigits, quantile } from "./mnist-stats.mjs";

// A "1" and a "0" as a person draws them on a 400 px canvas (y grows downwards).
const ONE = [Array.from({ length: 40 }, (_, i) => ({ x: 200 + i * 0.5, y: 60 + i * 7 }))];
const ZERO = [Array.from({ length: 81 }, (_, i) => {
  const a = (i / 80) * 2 * Math.PI;
  return { x: 200 + 90 * Math.sin(a), y: 200 - 130 * Math.cos(a) };
})];
const mnist = loadTestDigits();
const digitsOf = (d) => mnist.images.filter((_, k) => mnist.labels[k] === d);

/** Return [rows, cols] spanned by pixels above the threshold. */
function inkExtent(pixels, threshold = 0.5) {
  let r0 = SIZE, r1 = -1, c0 = SIZE, c1 = -1;
  pixels.forEach((v, i) => {
    if (v <= threshold) return;
    const r = Math.floor(i / SIZE), c = i % SIZE;
    r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, c); c1 = Math.max(c1, c);
  });
  return [r1 - r0 + 1, c1 - c0 + 1];
}

test("nothing drawn gives null, not a blank image", () => {
  assert.equal(strokesToPixels([]), null);
  assert.equal(strokesToPixels([[]]), null);
  assert.equal(bounds([[{ x: NaN, y: 1 }]]), null);
});

test("the pen is solid inside, soft at the edge, empty outside", () => {
  assert.equal(penInk(0), 1);
  assert.equal(penInk(5), 0);
  const edge = penInk(1.4);
  assert.ok(edge > 0.2 && edge < 0.8, `edge ink ${edge}`);
  assert.ok(penInk(1.2) > penInk(1.5) && penInk(1.5) > penInk(1.8));
});

test("a drawn digit is scaled into MNIST's 20x20 box and centred by mass", () => {
  for (const strokes of [ONE, ZERO]) {
    const px = strokesToPixels(strokes);
    assert.equal(px.length, 784);
    assert.ok(px.every((v) => v >= 0 && v <= 1));
    const [rows, cols] = inkExtent(px);
    assert.ok(rows <= BOX && rows >= BOX - 3, `height ${rows} px`);
    assert.ok(cols <= BOX);
    const [cx, cy] = centreOfMass(px);
    assert.ok(Math.abs(cx - 14) < 0.6 && Math.abs(cy - 14) < 0.6, `centre of mass ${cx}, ${cy}`);
  }
});

test("the same digit drawn small or large gives the same image", () => {
  const small = ZERO.map((s) => s.map((p) => ({ x: p.x / 4 + 7, y: p.y / 4 + 3 })));
  const a = strokesToPixels(ZERO), b = strokesToPixels(small);
  const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  assert.ok(diff < 1e-4, `max difference ${diff}`);
});

test("strokes carry as much ink as real MNIST digits of the same class", () => {
  for (const [digit, strokes] of [[1, ONE], [0, ZERO]]) {
    const sums = digitsOf(digit).map(inkSum);
    const ours = inkSum(strokesToPixels(strokes));
    const lo = quantile(sums, 0.1), hi = quantile(sums, 0.9);
    assert.ok(ours >= lo && ours <= hi, `a drawn ${digit} has ink ${ours.toFixed(1)}, MNIST 10-90%: ${lo}-${hi}`);
  }
});

test("strokes have MNIST's soft edge: a solid core with a grey fringe", () => {
  const px = strokesToPixels(ZERO);
  const inked = px.filter((v) => v > 0.05);
  const grey = inked.filter((v) => v < 0.9).length / inked.length;
  const real = digitsOf(0).slice(0, 200).flatMap((img) => Array.from(img).filter((v) => v > 0.05));
  const realGrey = real.filter((v) => v < 0.9).length / real.length;
  assert.ok(Math.abs(grey - realGrey) < 0.25, `grey fraction ${grey.toFixed(2)} vs MNIST ${realGrey.toFixed(2)}`);
});

test("a single tap makes a centred dot", () => {
  const px = strokesToPixels([[{ x: 10, y: 10 }]]);
  assert.ok(px[14 * SIZE + 14] > 0.9);
  assert.equal(px[0], 0);
  const [cx, cy] = centreOfMass(px);
  assert.ok(Math.abs(cx - 14) < 0.1 && Math.abs(cy - 14) < 0.1);
});
