import { test } from "node:test";
import assert from "node:assert/strict";
import { readChoice, sameChoice, writeChoice } from "../../static/js/lib/url-state.js";

test("the URL names a model, a run, or nothing", () => {
  assert.deepEqual(readChoice("?model=best"), { kind: "model", name: "best" });
  assert.deepEqual(readChoice("?run=r12"), { kind: "run", id: "r12" });
  assert.deepEqual(readChoice(""), { kind: "auto" });
  assert.deepEqual(readChoice("?model=best&run=r1"), { kind: "model", name: "best" });
});

test("names the server would refuse are ignored", () => {
  assert.deepEqual(readChoice("?model=../../etc/passwd"), { kind: "auto" });
  assert.deepEqual(readChoice("?model=Best"), { kind: "auto" });
  assert.deepEqual(readChoice("?run=%3Cscript%3E"), { kind: "auto" });
  assert.deepEqual(readChoice(`?run=${"a".repeat(65)}`), { kind: "auto" });
});

test("writing a choice keeps other parameters and round-trips", () => {
  assert.equal(writeChoice({ kind: "model", name: "best" }, "?run=r1&lang=fr"), "?lang=fr&model=best");
  assert.equal(writeChoice({ kind: "auto" }, "?run=r1"), "");
  for (const c of [{ kind: "model", name: "my-net_2" }, { kind: "run", id: "r7" }, { kind: "auto" }]) {
    assert.ok(sameChoice(readChoice(writeChoice(c)), c));
  }
  assert.ok(!sameChoice({ kind: "run", id: "r1" }, { kind: "run", id: "r2" }));
});
