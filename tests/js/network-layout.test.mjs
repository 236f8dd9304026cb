import { test } from "node:test";
import assert from "node:assert/strict";
import { edgeStyle, layout, maxAbs, pixelCentre, VIEW } from "../../static/js/lib/network-layout.js";

test("the video's network: input on the left, 16, 16 and 10 circles in columns left to right", () => {
  const l = layout([16, 16, 10]);
  assert.deepEqual(l.columns.map((c) => c.ys.length), [16, 16, 10]);
  const xs = [l.input.x + l.input.size, ...l.columns.map((c) => c.x)];
  assert.ok(xs.every((x, k) => k === 0 || x > xs[k - 1]), `columns in order: ${xs}`);
  for (const c of l.columns) {
    assert.ok(c.ys.every((y) => y - c.r >= VIEW.top && y + c.r <= VIEW.height), "circles stay inside");
    assert.ok(c.ys.every((y, i) => i === 0 || y - c.ys[i - 1] >= 2 * c.r), "circles do not overlap");
  }
});

test("a taller picture spreads the circles and keeps them inside", () => {
  const tall = layout([16, 16, 10], 1200);
  assert.equal(tall.height, 1200);
  for (const c of tall.columns) assert.ok(c.ys.at(-1) + c.r <= 1200 && c.ys[0] - c.r >= VIEW.top);
  assert.ok(tall.columns[0].ys[1] - tall.columns[0].ys[0] > layout([16, 16, 10]).columns[0].ys[1] - layout([16, 16, 10]).columns[0].ys[0]);
});

test("input pixels map into the input square, row by row", () => {
  const { input } = layout([16, 10]);
  const a = pixelCentre(input, 0), b = pixelCentre(input, 783), c = pixelCentre(input, 28);
  assert.ok(a.x > input.x && a.y > input.y && b.x < input.x + input.size && b.y < input.y + input.size);
  assert.equal(c.x, a.x);
  assert.ok(c.y > a.y);
});

test("connections: blue for positive, red for negative, thicker and darker when stronger", () => {
  const weak = edgeStyle(0.1, 2), strong = edgeStyle(-2, 2);
  assert.equal(weak.colour, "#2166ac");
  assert.equal(strong.colour, "#b2182b");
  assert.ok(strong.width > weak.width && strong.opacity > weak.opacity);
  assert.equal(edgeStyle(5, 0).opacity, 0.08);
  assert.equal(maxAbs([[1, -3], [[2]]]), 3);
});
