import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { configFrom, defaultOf, paceChoices, paceWords, statusParts, suggestedFor } from "../../static/js/lib/run-config.js";

const read = (rel) => readFileSync(new URL(`../../${rel}`, import.meta.url), "utf8");

/** Return the run config's field names as docs/api.md lists them (the server's contract). */
function contractFields() {
  const doc = read("docs/api.md");
  const start = doc.indexOf("Run config");
  const block = doc.slice(start, doc.indexOf("}`", start));   // the config object only, not what follows
  return [...block.matchAll(/"([a-z_0-9]+)":/g)].map((m) => m[1]);
}

const FORM = {
  name: "", hidden: "16, 16", activation: "sigmoid", cost: "quadratic", learning_rate: "3",
  schedule: "constant", warmup: "0", momentum: "0", l2: "0", batch_size: "10", epochs: "30", seed: "0",
  train_subset: "", validation_size: "5000", label_mode: "real", augment: "0",
  average: "0", pace: "classroom",
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

// The shape GET /api/run-config answers (docs/api.md); the bounds here are made up for the test.
const SPEC = {
  fields: {
    hidden: { type: "list", default: [16, 16], min: 1, max: 64, max_length: 3 },
    activation: { type: "choice", default: "sigmoid", choices: ["sigmoid", "relu"] },
    learning_rate: { type: "float", default: 3, min: 0, max: 10, exclusive: { min: true, max: false } },
    batch_size: { type: "int", default: 10, min: 1, max: 600 },
    pace: { type: "pace", default: "full", min: 20, max: 1e6 },
  },
  suggested: { "sigmoid/quadratic": { learning_rate: 3 }, "relu/cross_entropy": { learning_rate: 0.1 } },
};
const fromSpec = (over = {}) => configFrom((k) => ({ ...FORM, ...over })[k] ?? null, SPEC);

test("the server's bounds are the form's bounds, and the error names the field", () => {
  assert.equal(fromSpec().learning_rate, 3);
  assert.throws(() => fromSpec({ learning_rate: "50" }), (e) => e.field === "learning_rate" && /above 0 and up to 10/.test(e.message));
  assert.throws(() => fromSpec({ learning_rate: "0" }), (e) => e.field === "learning_rate");
  assert.equal(fromSpec({ learning_rate: "10" }).learning_rate, 10);
  assert.throws(() => fromSpec({ hidden: "100" }), (e) => e.field === "hidden" && /1 to 64/.test(e.message));
  assert.throws(() => fromSpec({ hidden: "1,2,3,4" }), (e) => e.field === "hidden" && /1 to 3 sizes/.test(e.message));
  assert.throws(() => fromSpec({ activation: "tanh" }), (e) => e.field === "activation");
  assert.equal(fromForm({ learning_rate: "50" }).learning_rate, 50, "without a spec the server decides");
});

test("the learning rate follows the activation and cost the server suggests", () => {
  assert.deepEqual(suggestedFor(SPEC, "relu", "cross_entropy"), { learning_rate: 0.1 });
  assert.deepEqual(suggestedFor(SPEC, "relu", "quadratic"), {});
  assert.deepEqual(suggestedFor(null, "relu", "cross_entropy"), {});
  assert.equal(defaultOf(SPEC, "batch_size", 1), 10);
  assert.equal(defaultOf(null, "batch_size", 1), 1);
});

test("pace choices start at one mini-batch a second and stay within the server's bounds", () => {
  const choices = paceChoices(10, SPEC);
  assert.equal(choices[0].value, "classroom");
  assert.equal(choices.at(-1).value, "full");
  const numbers = choices.map((c) => c.value).filter((v) => typeof v === "number");
  assert.ok(!numbers.includes(10), "10 examples/s is under the server's minimum of 20");
  assert.ok(numbers.every((v) => v >= 20 && v % 10 === 0));
  assert.equal(paceChoices(10)[1].value, 10, "one batch a second when the server sets no minimum");
  assert.match(paceChoices(10)[1].label, /1 batch a second/);
  assert.equal(paceWords("full"), "full speed");
  assert.equal(paceWords(2500), "2,500 examples/s");
});

test("a server refusal names the control that caused it (FastAPI's 422 loc)", async () => {
  const { refusedField } = await import("../../static/js/watch-bar.js");
  const err = Object.assign(new Error("x"), { detail: [{ loc: ["body", "learning_rate"], msg: "too big" }] });
  assert.equal(refusedField(err), "learning_rate");
  assert.equal(refusedField(Object.assign(new Error("pause the run first"), { detail: "pause the run first" })), null);
  assert.equal(refusedField(new Error("offline")), null);
});
