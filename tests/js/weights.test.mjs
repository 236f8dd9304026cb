import { test } from "node:test";
import assert from "node:assert/strict";
import { base64ToBytes, decodeWeights, robustRange, weightValue } from "../../static/js/lib/weights.js";

/** Return a message the way the server encodes it (Python: base64.b64encode(int8_array.tobytes())). */
function message(neurons, codes, scale = 0.5) {
  return {
    type: "weights", step: 42, neurons, shape: [28, 28], scale,
    data: Buffer.from(Int8Array.from(codes).buffer).toString("base64"),
  };
}

test("base64 decodes to the original bytes", () => {
  assert.deepEqual(Array.from(base64ToBytes("AAH/gA==")), [0, 1, 255, 128]);
});

test("each neuron gets its own 28x28 row-major map of signed codes", () => {
  const codes = new Array(2 * 784).fill(0);
  codes[0] = 127; codes[783] = -127; codes[784] = -1; codes[784 + 28] = 5;
  const w = decodeWeights(message([3, 7], codes));
  assert.equal(w.step, 42);
  assert.deepEqual(w.neurons, [3, 7]);
  assert.equal(w.maps.length, 2);
  assert.equal(w.maps[0].length, 784);
  assert.equal(w.maps[0][0], 127);
  assert.equal(w.maps[0][783], -127);
  assert.equal(w.maps[1][0], -1);
  assert.equal(w.maps[1][28], 5);      // row 1, column 0
  assert.equal(w.width, 28);
  assert.equal(w.height, 28);
});

test("codes turn back into weights: int8 / 127 * scale, zero exactly zero", () => {
  assert.equal(weightValue(127, 0.83), 0.83);
  assert.equal(weightValue(-127, 0.83), -0.83);
  assert.equal(weightValue(0, 0.83), 0);
  assert.ok(Math.abs(weightValue(64, 1) - 64 / 127) < 1e-12);
});

test("a message of the wrong length or shape is refused with a reason", () => {
  assert.throws(() => decodeWeights(message([0, 1], new Array(784).fill(0))), /expected 2 x 784/);
  assert.throws(() => decodeWeights({ type: "weights", neurons: [0] }), /shape/);
  assert.throws(() => decodeWeights(null), /neurons/);
});

test("the colour range of a map ignores a few outliers but not the bulk", () => {
  const codes = new Int8Array(784);
  for (let i = 0; i < 784; i++) codes[i] = (i % 21) - 10;      // bulk within +-10
  codes[5] = 127; codes[6] = -127; codes[7] = 120;              // three outliers
  assert.equal(robustRange(codes), 10);
  assert.equal(robustRange(codes, 1), 127);
  assert.equal(robustRange(new Int8Array(784)), 1);             // all zero: no division by zero
  assert.equal(robustRange(Int8Array.of(-128)), 128);
});
