import { test } from "node:test";
import assert from "node:assert/strict";
import { readSettings, writeSettings } from "../../static/js/lessons/query.js";
import { keyToSource, readSource, sourceKey } from "../../static/js/lessons/source.js";
import { firstLayerNeuron, nudgeArrow, paramName } from "../../static/js/lessons/gradient-column.js";
import { plainWords } from "../../static/js/lessons/plain-words.js";
import { logScale } from "../../static/js/lessons/plot.js";

const SPEC = {
  lr: { type: "number", min: 0.005, max: 3, default: 0.1 },
  index: { type: "number", min: 0, max: 9999, integer: true, default: 0 },
  kind: { type: "enum", values: ["salt", "blank"], default: "salt" },
  x: { type: "name", pattern: /^-?\d+(\.\d+)?(,-?\d+(\.\d+)?)*$/, default: "" },
};

test("settings come back from the URL they were written to", () => {
  const values = { lr: 0.25, index: 42, kind: "blank", x: "-4.50,3.00" };
  assert.deepEqual(readSettings(writeSettings(values, SPEC), SPEC), values);
});

test("bad or out-of-range values fall back to the defaults", () => {
  const got = readSettings("?lr=99&index=3.5&kind=pink&x=1;alert(1)", SPEC);
  assert.deepEqual(got, { lr: 0.1, index: 0, kind: "salt", x: "" });
  assert.deepEqual(readSettings("?lr=abc&index=-1", SPEC), { lr: 0.1, index: 0, kind: "salt", x: "" });
});

test("defaults are left out of the link and other parameters are kept", () => {
  const q = writeSettings({ lr: 0.1, index: 7, kind: "salt", x: "" }, SPEC, "?model=best&index=3");
  assert.equal(q, "?model=best&index=7");
  assert.equal(writeSettings({ lr: 0.1, index: 0, kind: "salt", x: "" }, SPEC), "");
});

test("the network source round-trips through the picker's keys and the URL", () => {
  for (const src of [{ model: "best" }, { run: "r12" }, { fresh: 3 }, {}]) {
    assert.deepEqual(keyToSource(sourceKey(src)), src);
  }
  assert.deepEqual(readSource("?run=r2"), { run: "r2" });
  assert.deepEqual(readSource("?fresh=0"), { fresh: 0 });
  assert.deepEqual(readSource("?model=../etc"), {});
  assert.deepEqual(readSource("?fresh=-1"), {});
});

test("every one of the video's 13,002 parameters is named where it sits", () => {
  const sizes = [784, 16, 16, 10];
  assert.equal(paramName(0, sizes), "pixel (0, 0) → h1 #1");
  assert.equal(paramName(784, sizes), "bias of h1 #1");
  assert.equal(paramName(785 + 300, sizes), "pixel (10, 20) → h1 #2");
  assert.equal(paramName(16 * 785, sizes), "h1 #1 → h2 #1");
  assert.equal(paramName(16 * 785 + 16 * 17 + 16, sizes), "bias of out 0");
  assert.equal(paramName(13_001, sizes), "bias of out 9");
  assert.equal(paramName(13_002, sizes), "parameter 13002");
  assert.deepEqual([nudgeArrow(-0.2), nudgeArrow(0.1), nudgeArrow(0)], ["↑", "↓", "·"]);
  assert.deepEqual([firstLayerNeuron(0, sizes), firstLayerNeuron(785 * 15 + 784, sizes), firstLayerNeuron(785 * 16, sizes)],
    [0, 15, null]);
});

test("the server's validation errors come out in plain words", () => {
  const detail = [{ loc: ["query", "learning_rate"], msg: "Input should be less than or equal to 10" }];
  assert.equal(plainWords(detail), "The learning rate can be at most 10.");
  assert.equal(plainWords([{ loc: ["query", "x"], msg: "Input should be a valid number, unable to parse string" }]),
    "The x must be a number.");
  assert.equal(plainWords("run r9 has not produced weights yet"), "run r9 has not produced weights yet");
  assert.equal(plainWords(undefined), "");
});

test("the log-scale slider maps its ends and round-trips", () => {
  const s = logScale(0.01, 10);
  assert.ok(Math.abs(s.toValue(0) - 0.01) < 1e-12);
  assert.ok(Math.abs(s.toValue(1000) - 10) < 1e-9);
  assert.equal(s.toPos(s.toValue(500)), 500);
});

import { mergeColumns, pointsWith } from "../../static/js/lessons/overlay.js";

test("two runs' histories share one x axis, with gaps where a run has no value", () => {
  const a = [{ epoch: 1, train_accuracy: 0.5 }, { epoch: 2, train_accuracy: 0.8 }, { epoch: 3, train_accuracy: null }];
  const b = [{ epoch: 2, train_accuracy: 0.1 }, { epoch: 0.5, train_accuracy: 0.05 }];
  const [xs, ya, yb] = mergeColumns([{ points: a, field: "train_accuracy" }, { points: b, field: "train_accuracy" }]);
  assert.deepEqual(xs, [0.5, 1, 2]);
  assert.deepEqual(ya, [null, 0.5, 0.8]);
  assert.deepEqual(yb, [0.05, null, 0.1]);
  assert.deepEqual(pointsWith([{ epoch: NaN, x: 1 }, { epoch: 1 }], "x"), []);
  assert.deepEqual(mergeColumns([{ points: [], field: "x" }]), [[], []]);
});

import { costText, squareText } from "../../static/js/lessons/cost-table.js";

test("a small cost never reads as 0.000", () => {
  assert.equal(costText(0.0651), "0.065");
  assert.equal(costText(0.000667), "0.00067");
  assert.equal(costText(0.0004), "0.0004");
  assert.equal(costText(0), "0.000");
  assert.equal(costText(2.5), "2.500");
  assert.deepEqual([squareText(0.000085), squareText(0), squareText(0.25)], ["<0.001", "0.000", "0.250"]);
});
