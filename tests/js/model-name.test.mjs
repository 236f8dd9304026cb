import { test } from "node:test";
import assert from "node:assert/strict";
import { existingModel, nameProblem, NAME_RULE } from "../../static/js/lib/model-name.js";

test("a name the server accepts has no problem", () => {
  for (const name of ["my-model", "a", "x_1", "9lives", "a".repeat(40)]) assert.equal(nameProblem(name), "", name);
});

test("a refused name is answered with what is allowed, in words, never the raw pattern", () => {
  for (const name of ["My Model", "-lead", "a".repeat(41), "a.npz", "a/b", "\u00e9t\u00e9"]) {
    const text = nameProblem(name);
    assert.ok(text.includes(NAME_RULE), name);
    assert.ok(!text.includes("^") && !text.includes("{0,39}"), text);
  }
  assert.match(nameProblem(""), /^Type a name first/);
});

test("saving over a saved model asks first; a shipped name is not a saved one", () => {
  const models = [{ name: "best", kind: "shipped" }, { name: "mine", kind: "saved" }];
  assert.equal(existingModel(models, "mine"), "saved");
  assert.equal(existingModel(models, "best"), "shipped");
  assert.equal(existingModel(models, "new"), "");
});
