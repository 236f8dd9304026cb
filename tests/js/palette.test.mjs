import { test } from "node:test";
import assert from "node:assert/strict";
import { NEUTRAL, css, diverging, int8Lut, sequential } from "../../static/js/lib/palette.js";

test("zero is the neutral colour, and so is a missing value", () => {
  assert.deepEqual(diverging(0), NEUTRAL);
  assert.deepEqual(diverging(NaN), NEUTRAL);
  assert.deepEqual(diverging(-0), NEUTRAL);
});

test("negative is red, positive is blue, and the ends are the strongest", () => {
  const [r1, , b1] = diverging(-1);
  const [r2, , b2] = diverging(1);
  assert.ok(r1 > b1 + 100, "negative end is red");
  assert.ok(b2 > r2 + 100, "positive end is blue");
  const dist = (c) => Math.hypot(...c.map((v, i) => v - NEUTRAL[i]));
  for (const t of [0.1, 0.3, 0.6, 0.9]) {
    assert.ok(dist(diverging(t)) < dist(diverging(Math.min(1, t + 0.1))), `stronger past ${t}`);
    assert.ok(dist(diverging(-t)) < dist(diverging(-Math.min(1, t + 0.1))), `stronger past -${t}`);
  }
});

test("values past the ends are clamped", () => {
  assert.deepEqual(diverging(5), diverging(1));
  assert.deepEqual(diverging(-5), diverging(-1));
});

test("the int8 lookup table matches the scale at code 0 and +-127", () => {
  const lut = int8Lut();
  assert.equal(lut.length, 1024);
  const at = (c) => Array.from(lut.slice((c + 128) * 4, (c + 128) * 4 + 4));
  assert.deepEqual(at(0), [...NEUTRAL, 255]);
  assert.deepEqual(at(127), [...diverging(1), 255]);
  assert.deepEqual(at(-127), [...diverging(-1), 255]);
  assert.deepEqual(at(-128), at(-127));
});

test("activations run from paper to dark, monotonically", () => {
  const lum = (c) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  let prev = Infinity;
  for (let a = 0; a <= 1.0001; a += 0.1) {
    const l = lum(sequential(a));
    assert.ok(l < prev, `darker at ${a.toFixed(1)}`);
    prev = l;
  }
  assert.deepEqual(sequential(-1), sequential(0));
  assert.equal(css([1, 2, 3]), "rgb(1, 2, 3)");
});
