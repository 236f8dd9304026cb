// Lesson 7: the same network from several seeds (runs of the server's run manager, found or
// started through /api/lessons/runs/many-valleys): close accuracies, different weight maps.
import { Heatmaps } from "../heatmaps.js";
import { getJSON, postJSON } from "./http.js";
import { ACTIVE } from "../lib/run-config.js";
import { lessonRuns } from "./lesson-runs.js";
import { readSettings, saveSettings } from "./query.js";

const $ = (sel) => document.querySelector(sel);
const SPEC = { seeds: { type: "number", min: 2, max: 6, integer: true, default: 4 } };
const settings = readSettings(window.location.search, SPEC);
const say = (err) => { $("#lesson-error").textContent = err ? err.message : ""; };
let cards = new Map();   // run key -> {root, status, maps, step}
let runs = {};

function card(key) {
  if (cards.has(key)) return cards.get(key);
  const root = document.createElement("div");
  root.className = "run-card";
  root.dataset.key = key;
  root.innerHTML = `<h2></h2><p class="run-status"></p><div class="heatmaps wide" role="img"></div>`;
  root.querySelector("h2").textContent = key;
  root.querySelector(".heatmaps").setAttribute("aria-label", `The first-layer weight maps of run ${key}, as 28 by 28 pictures`);
  $("#seed-grid").append(root);
  const c = { root, status: root.querySelector(".run-status"), maps: new Heatmaps(root.querySelector(".heatmaps"), null), step: -1 };
  cards.set(key, c);
  return c;
}

function summary() {
  const accs = Object.values(runs).map((r) => r?.metrics?.test_accuracy).filter(Number.isFinite);
  $("#accuracy-list").textContent = accs.length ? accs.map((a) => `${(100 * a).toFixed(1)}%`).join(", ") : "–";
  $("#accuracy-spread").textContent = accs.length > 1 ? `${(100 * (Math.max(...accs) - Math.min(...accs))).toFixed(1)} points` : "–";
}

async function refresh() {
  const found = await getJSON("/api/lessons/runs/many-valleys", { seeds: settings.seeds });
  runs = found.runs;
  for (const key of [...cards.keys()]) if (!(key in runs)) { cards.get(key).root.remove(); cards.delete(key); }
  for (const [key, run] of Object.entries(runs)) {
    const c = card(key);
    if (!run) { c.status.textContent = "not started"; continue; }
    const acc = run.metrics?.test_accuracy;
    c.status.textContent = `run ${run.id} · ${run.status} · epoch ${run.progress.epoch.toFixed(2)} of ${run.progress.epochs}` +
      (Number.isFinite(acc) ? ` · test ${(100 * acc).toFixed(1)}%` : "");
    if (run.metrics && run.progress.step !== c.step) {
      c.step = run.progress.step;
      c.maps.update(await getJSON("/api/lessons/weights", { run: run.id, neurons: 8 }));
    }
  }
  summary();
  const all = Object.values(runs);
  $("#start-seeds").disabled = all.every(Boolean);
  $("#stop-seeds").disabled = !all.some((r) => r && ACTIVE.includes(r.status));
}

const { watch, stopAll } = lessonRuns(refresh, say);

$("#seeds").value = String(settings.seeds);
$("#seeds").addEventListener("change", (e) => {
  const v = Math.round(Number(e.target.value));
  settings.seeds = Number.isFinite(v) ? Math.min(6, Math.max(2, v)) : 4;
  e.target.value = String(settings.seeds);
  saveSettings(settings, SPEC);
  watch();
});
$("#start-seeds").addEventListener("click", async () => {
  try {
    const started = await postJSON("/api/lessons/runs/many-valleys", { seeds: settings.seeds });
    $("#seeds-note").textContent = started.created.length ? `started ${started.created.length} runs (at most 2 train at once; the rest queue)`
      : "rejoined the existing runs";
    watch();
  } catch (err) { say(err); }
});
$("#stop-seeds").addEventListener("click", () => stopAll(Object.values(runs)));
watch();
