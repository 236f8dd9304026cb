// Lesson 6: true labels against shuffled labels on the same training subset. The two runs are
// ordinary runs of the server's run manager, found or started through /api/lessons/runs/random-labels.
import { getJSON, postJSON } from "./http.js";
import { ACTIVE } from "../lib/run-config.js";
import { lessonRuns } from "./lesson-runs.js";
import { OverlayChart } from "./overlay-chart.js";
import { readSettings, saveSettings } from "./query.js";

const $ = (sel) => document.querySelector(sel);
const SPEC = {
  subset: { type: "number", min: 200, max: 10000, integer: true, default: 2000 },
  epochs: { type: "number", min: 1, max: 400, integer: true, default: 60 },
};
const KEYS = ["real", "shuffled"];
const settings = readSettings(window.location.search, SPEC);
const accuracy = new OverlayChart($("#accuracy-chart"), [
  { label: "true labels: train", stroke: "#1b4f9c" },
  { label: "shuffled: train", stroke: "#c2410c" },
  { label: "true labels: test", stroke: "#1b4f9c", dash: [6, 6], width: 1.5 },
  { label: "shuffled: test", stroke: "#c2410c", dash: [6, 6], width: 1.5 },
], "accuracy", [0, 1]);
const cost = new OverlayChart($("#cost-chart"), [
  { label: "true labels", stroke: "#1b4f9c" }, { label: "shuffled", stroke: "#c2410c" },
], "cost");
let runs = { real: null, shuffled: null };

const query = () => ({ train_subset: settings.subset, epochs: settings.epochs });
const say = (err) => { $("#lesson-error").textContent = err ? err.message : ""; };

function describe(run) {
  if (!run) return "not started";
  const m = run.metrics, pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "–");
  return `${run.status} · epoch ${run.progress.epoch.toFixed(1)} of ${run.progress.epochs}` +
    (m ? ` · train ${pct(m.train_accuracy)} · test ${pct(m.test_accuracy)}` : "");
}

async function refresh() {
  const found = await getJSON("/api/lessons/runs/random-labels", query());
  runs = found.runs;
  const histories = await Promise.all(KEYS.map((k) => (runs[k] ? getJSON(`/api/runs/${runs[k].id}/history`) : { points: [] })));
  const [real, shuffled] = histories.map((h) => h.points);
  accuracy.update([{ points: real, field: "train_accuracy" }, { points: shuffled, field: "train_accuracy" },
    { points: real, field: "test_accuracy" }, { points: shuffled, field: "test_accuracy" }]);
  cost.update([{ points: real, field: "train_cost" }, { points: shuffled, field: "train_cost" }]);
  for (const k of KEYS) $(`#status-${k}`).textContent = describe(runs[k]);
  const active = KEYS.some((k) => runs[k] && ACTIVE.includes(runs[k].status));
  $("#stop-runs").disabled = !active;
  $("#start-runs").disabled = KEYS.every((k) => runs[k]);
  $("#runs-note").textContent = KEYS.every((k) => runs[k]) ? `runs ${runs.real.id} and ${runs.shuffled.id}` : "";
}

const { watch, stopAll } = lessonRuns(refresh, say);

$("#subset").value = String(settings.subset);
$("#epochs").value = String(settings.epochs);
for (const id of ["subset", "epochs"]) {
  $(`#${id}`).addEventListener("change", (e) => {
    const rule = SPEC[id], v = Math.round(Number(e.target.value));
    settings[id] = Number.isFinite(v) ? Math.min(rule.max, Math.max(rule.min, v)) : rule.default;
    e.target.value = String(settings[id]);
    saveSettings(settings, SPEC);
    watch();
  });
}
$("#start-runs").addEventListener("click", async () => {
  try {
    const started = await postJSON("/api/lessons/runs/random-labels", query());
    $("#runs-note").textContent = started.created.length ? `started: ${started.created.join(", ")}` : "rejoined the existing runs";
    watch();
  } catch (err) { say(err); }
});
$("#stop-runs").addEventListener("click", () => stopAll(KEYS.map((k) => runs[k])));
watch();
