import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { configFrom, statusParts } from "../../static/js/lib/run-config.js";

const read = (rel) => readFileSync(new URL(`../../${rel}`, import.meta.url), "utf8");

/** Return the run config's field names as docs/api.md lists them (the server's contract). */
function contractFields() {
  const doc = read("docs/api.md");
  const block = doc.slice(doc.indexOf("Run config"), doc.indexOf("Bounds"));
  return [...block.matchAll(/"([a-z_0-9]+)":/g)].map((m) => m[1]);
}

const FORM = {
  name: "", hidden: "16, 16", activation: "sigmoid", cost: "quadratic", learning_rate: "3",
  schedule: "constant", warmup: "0", momentum: "0", l2: "0", batch_size: "10", epochs: "30", seed: "0",
  train_subset: "", validation_size: "5000", label_mode: "real", augment: "0",
  average: "0",
};
const fromForm = (over = {}) => configFrom((k) => ({ ...FORM, ...over })[k] ?? null);

test("the form covers every field of the run config in docs/api.md", () => {
  const fields = contractFields();
  assert.ok(fields.length >= 15, `found ${fields}`);
  const html = read("templates/index.html");
  for (const f of fields) assert.match(html, new RegExp(`name="${f}"`), `the form has no input for ${f}`);
  const config = fromForm({ train_subset: "1000" });
  assert.deepEqual(Object.keys(config).sort(), [...fields].sort());
});

test("the form's defaults are the video's network", () => {
  const c = fromForm();
  assert.deepEqual(c.hidden, [16, 16]);
  assert.equal(c.learning_rate, 3);
  assert.equal(c.batch_size, 10);
  assert.equal(c.epochs, 30);
  assert.ok(!("train_subset" in c), "blank: all training examples");
  assert.ok(!("name" in c));
  assert.equal(fromForm({ name: " demo " }).name, "demo");
});

test("bad entries are refused with the field's name", () => {
  assert.throws(() => fromForm({ hidden: "16,abc" }), /Hidden layers/);
  assert.throws(() => fromForm({ hidden: "1,2,3,4,5" }), /Hidden layers/);
  assert.throws(() => fromForm({ hidden: "2000" }), /Hidden layers/);
  assert.throws(() => fromForm({ batch_size: "2.5" }), /batch size: "2.5" is not a whole number/);
  assert.throws(() => fromForm({ learning_rate: "fast" }), /learning rate/);
});

test("the status line says state, epoch, examples, speed and accuracy", () => {
  const run = { id: "r2", name: "demo", status: "running", progress: { epoch: 2.456, epochs: 30, examples_seen: 123456 },
    metrics: { examples_per_second: 8123.4, test_accuracy: 0.9123 }, error: null };
  const [state, parts] = statusParts(run);
  assert.equal(state, "running");
  assert.deepEqual(parts, ["demo (r2)", "epoch 2.46 / 30", "123,456 examples seen", "8,123 examples/s",
    "test accuracy 91.2%"]);
  assert.deepEqual(statusParts(null), ["no run", []]);
  assert.equal(statusParts({ ...run, name: "r2" })[1][0], "run r2");
  assert.ok(statusParts({ ...run, status: "diverged", error: "cost became NaN" })[1].includes("cost became NaN"));
});
