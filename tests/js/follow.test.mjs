import { test } from "node:test";
import assert from "node:assert/strict";
import { offerFollow, runToWatch } from "../../static/js/lib/follow.js";

// Newest first, as GET /api/runs answers; r3 is a lesson's run, started after the teacher's r2.
const RUNS = [{ id: "r3", status: "running" }, { id: "r2", status: "running" }, { id: "r1", status: "finished" }];
const AUTO = { kind: "auto" };

test("a page that picked nothing shows the teacher's watched run, never a newer lesson run", () => {
  assert.deepEqual(runToWatch(AUTO, RUNS, "r2"), { id: "r2", lost: false });
  assert.deepEqual(runToWatch(AUTO, RUNS, null), { id: null, lost: false }, "no watched run: none");
  assert.deepEqual(runToWatch(AUTO, RUNS, "r9"), { id: null, lost: false }, "a watched run not listed yet");
  assert.equal(runToWatch(AUTO, RUNS, undefined).id, "r3", "a server without a studio: the newest running run");
});

test("a run the viewer picked stays shown while it exists, and is reported lost when it is gone", () => {
  assert.deepEqual(runToWatch({ kind: "run", id: "r1" }, RUNS, "r2"), { id: "r1", lost: false });
  assert.deepEqual(runToWatch({ kind: "run", id: "r7" }, RUNS, "r2"), { id: "r2", lost: true });
});

test("the follow-the-teacher link shows only to a viewer who picked something else", () => {
  assert.equal(offerFollow(AUTO, "r2", "r2"), false);
  assert.equal(offerFollow({ kind: "run", id: "r1" }, "r2", "r1"), true);
  assert.equal(offerFollow({ kind: "run", id: "r2" }, "r2", "r2"), false);
  assert.equal(offerFollow({ kind: "model", name: "best" }, "r2", "r2"), false);
  assert.equal(offerFollow({ kind: "run", id: "r1" }, null, "r1"), false);
});
