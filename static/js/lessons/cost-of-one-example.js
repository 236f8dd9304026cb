// Lesson 1: the cost of one example, and the average over the test set, for any network.
import { DrawCanvas } from "../canvas.js";
import { InputPreview } from "../input-preview.js";
import { strokesToPixels } from "../lib/digitize.js";
import { throttle } from "../lib/throttle.js";
import { CostTable } from "./cost-table.js";
import { getJSON, postJSON } from "./http.js";
import { readSettings, saveSettings } from "./query.js";
import { SourcePicker } from "./source.js";

const $ = (sel) => document.querySelector(sel);
const SPEC = {
  index: { type: "number", min: 0, max: 9999, integer: true, default: 0 },
  mode: { type: "enum", values: ["test", "draw"], default: "test" },
};
const settings = readSettings(window.location.search, SPEC);
const table = new CostTable($("#cost-table"), $("#example-cost"));
const preview = new InputPreview($("#example-image"));
const errorEl = $("#lesson-error");
const picker = new SourcePicker($("#source-picker"), () => { refreshAll(); });
let pixels = null;
let freshCost = null;

function say(err) { errorEl.textContent = err ? err.message : ""; }

function show(data) {
  table.update(data);
  if (settings.mode === "test") preview.update(data.input);
  $("#example-label").textContent = String(data.label);
  $("#example-digit").textContent = String(data.digit);
  picker.shown(data.model);
  document.body.dataset.loaded = "1";
}

async function refreshExample() {
  try {
    if (settings.mode === "draw") {
      if (!pixels) return;
      const label = Number($("#drawn-label").value);
      show(await postJSON("/api/lessons/example", { label, ...picker.source }, { pixels: Array.from(pixels, (v) => Math.round(v * 1000) / 1000) }));
    } else {
      show(await getJSON("/api/lessons/example", { index: settings.index, ...picker.source }));
    }
    say(null);
  } catch (err) { say(err); }
}

async function refreshTestCost() {
  try {
    freshCost ??= getJSON("/api/lessons/test-cost", { fresh: 0 });  // never changes: ask once
    const [mine, fresh] = await Promise.all([getJSON("/api/lessons/test-cost", picker.source), freshCost]);
    $("#test-cost").textContent = mine.cost.toFixed(3);
    $("#test-accuracy").textContent = `${(100 * mine.accuracy).toFixed(1)}%`;
    $("#fresh-cost").textContent = `${fresh.cost.toFixed(3)} (accuracy ${(100 * fresh.accuracy).toFixed(1)}%)`;
    const m = mine.model;
    $("#live-note").textContent = m.kind === "run" ? `live weights of run ${m.name}, epoch ${m.epoch}: updating every 2 s`
      : `${m.kind} network ${m.name}`;
  } catch (err) { say(err); }
}

function refreshAll() { refreshExample(); refreshTestCost(); }

function setIndex(i) {
  settings.index = ((i % 10000) + 10000) % 10000;
  $("#example-index").value = String(settings.index);
  saveSettings(settings, SPEC);
  refreshExample();
}

function setMode(mode) {
  settings.mode = mode;
  $("#pick-test").hidden = mode !== "test";
  $("#pick-draw").hidden = mode !== "draw";
  $("#mode-test").setAttribute("aria-selected", String(mode === "test"));
  $("#mode-draw").setAttribute("aria-selected", String(mode === "draw"));
  saveSettings(settings, SPEC);
  if (mode === "draw") canvas.resize();
  refreshExample();
}

const sendDrawing = throttle(() => refreshExample(), 250);
const canvas = new DrawCanvas($("#draw-canvas"), (strokes) => {
  pixels = strokesToPixels(strokes);
  if (pixels) sendDrawing();
});
$("#clear-canvas").addEventListener("click", () => { canvas.clear(); pixels = null; });
$("#drawn-label").addEventListener("change", () => refreshExample());
$("#prev-example").addEventListener("click", () => setIndex(settings.index - 1));
$("#next-example").addEventListener("click", () => setIndex(settings.index + 1));
$("#random-example").addEventListener("click", () => setIndex(Math.floor(Math.random() * 10000)));
$("#example-index").addEventListener("change", (e) => setIndex(Math.round(Number(e.target.value) || 0)));
$("#mode-test").addEventListener("click", () => setMode("test"));
$("#mode-draw").addEventListener("click", () => setMode("draw"));

$("#example-index").value = String(settings.index);
picker.load();
setMode(settings.mode);
refreshTestCost();
// Live while a run trains: re-read the run's newest weights every 2 seconds.
setInterval(() => { if (picker.source.run || !Object.keys(picker.source).length) refreshAll(); }, 2000);
