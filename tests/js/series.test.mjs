import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { Series } from "../../static/js/lib/series.js";
import { perFrame, serial, throttle } from "../../static/js/lib/throttle.js";

const point = (step, extra = {}) => ({ step, epoch: step / 100, examples_seen: step * 10,
  batch_cost: 1 / (step + 1), ...extra });

test("points become uPlot columns against examples seen; missing figures are gaps (null)", () => {
  const s = new Series();
  assert.ok(s.add(point(1)));
  assert.ok(s.add(point(2, { test_cost: 0.3, test_accuracy: 0.9, probe_accuracy: 0.88 })));
  const [x, batch, probeCost, testCost, probeAcc, acc] = s.columns();
  assert.deepEqual(x, [10, 20]);
  assert.deepEqual(batch, [0.5, 1 / 3]);
  assert.deepEqual(probeCost, [null, null]);
  assert.deepEqual(testCost, [null, 0.3]);
  assert.deepEqual(probeAcc, [null, 0.88]);
  assert.deepEqual(acc, [null, 0.9]);
  assert.deepEqual(s.columns(["test_accuracy"]), [x, acc]);
});

test("the point before the first step sits at x = 1, so a log axis can show it", () => {
  const s = new Series();
  s.add(point(0, { probe_accuracy: 0.1 }));
  assert.deepEqual(s.x, [1]);
});

test("the latest accuracy is the newest probe or full-test figure", () => {
  const s = new Series();
  assert.equal(s.latestAccuracy(), null);
  s.add(point(1, { probe_accuracy: 0.3 }));
  s.add(point(2));
  assert.deepEqual(s.latestAccuracy(), { value: 0.3, examples: 10, kind: "probe" });
  s.add(point(3, { test_accuracy: 0.5 }));
  assert.deepEqual(s.latestAccuracy(), { value: 0.5, examples: 30, kind: "test" });
});

test("a point seen twice (history then live) is added once", () => {
  const s = new Series();
  s.add(point(5));
  assert.ok(!s.add(point(5)));
  assert.ok(!s.add(point(3)));
  assert.ok(!s.add({ step: 9, examples_seen: NaN }));
  assert.equal(s.length, 1);
});

test("a long run is thinned but keeps the first climb, every full-test point and the recent detail", () => {
  const s = new Series(1000);
  for (let k = 0; k < 4000; k++) s.add(point(k, k % 50 === 0 ? { test_accuracy: k } : {}));
  assert.ok(s.length <= 1000, `${s.length} points`);
  const tests = s.columns()[5].filter((v) => v !== null);
  assert.equal(tests.length, 80);
  assert.deepEqual(s.x.slice(0, 200), Array.from({ length: 200 }, (_, k) => Math.max(1, k * 10)));
  assert.equal(s.x.at(-1), 39990);
  assert.ok(s.x.every((v, i) => i === 0 || v > s.x[i - 1]), "x stays sorted");
});

test("throttle runs the first call at once and the newest of a burst later, once", () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  try {
    const calls = [];
    const t = throttle((v) => calls.push(v), 100);
    t(1); t(2); t(3);
    assert.deepEqual(calls, [1]);
    mock.timers.tick(100);
    assert.deepEqual(calls, [1, 3]);
    t(4); t.cancel();
    mock.timers.tick(200);
    assert.deepEqual(calls, [1, 3]);
  } finally {
    mock.timers.reset();
  }
});

test("perFrame renders once per frame with the newest data", () => {
  const queue = [];
  const seen = [];
  const update = perFrame((d) => seen.push(d), (cb) => queue.push(cb));
  update(1); update(2); update(3);
  assert.equal(queue.length, 1);
  queue.shift()();
  assert.deepEqual(seen, [3]);
  update(4);
  queue.shift()();
  assert.deepEqual(seen, [3, 4]);
});

test("serial keeps one call in flight and then runs only the newest waiting one", async () => {
  const started = [];
  const gates = [];
  const s = serial((v) => new Promise((resolve) => { started.push(v); gates.push(resolve); }));
  s(1); s(2); s(3);
  assert.deepEqual(started, [1]);
  gates.shift()();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [1, 3]);
  gates.shift()();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [1, 3]);
});

test("serial reports errors and carries on", async () => {
  const errors = [];
  let calls = 0;
  const s = serial(async () => { calls += 1; throw new Error("boom"); }, (e) => errors.push(e.message));
  s(); await new Promise((r) => setTimeout(r, 0));
  s(); await new Promise((r) => setTimeout(r, 0));
  assert.equal(calls, 2);
  assert.deepEqual(errors, ["boom", "boom"]);
});
