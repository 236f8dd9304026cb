// Lesson 4: the gradient of one example's cost for the first layer's weights, beside the weights.
import { DrawCanvas } from "../canvas.js";
import { Heatmaps } from "../heatmaps.js";
import { InputPreview } from "../input-preview.js";
import { strokesToPixels } from "../lib/digitize.js";
import { throttle } from "../lib/throttle.js";
import { getJSON, postJSON } from "./http.js";
import { NudgeList } from "./nudge-list.js";
import { readSettings, saveSettings } from "./query.js";
import { SourcePicker } from "./source.js";

const $ = (sel) => document.querySelector(sel);
const SPEC = {
  index: { type: "number", min: 0, max: 59999, integer: true, default: 0 },
  mode: { type: "enum", values: ["train", "draw"], default: "train" },
};
const settings = readSettings(window.location.search, SPEC);
// Scales are written here, not by the widget: gradients are far smaller than weights.
const weightMaps = new Heatmaps($("#weight-maps"), null);
const gradientMaps = new Heatmaps($("#gradient-maps"), null);
const preview = new InputPreview($("#example-image"));
const nudges = new NudgeList($("#nudge-list"));
const picker = new SourcePicker($("#source-picker"), () => refresh());
let pixels = null;

function show(data) {
  weightMaps.update(data.weights);
  gradientMaps.update(data.gradient);
  $("#weights-scale").textContent = `(colour range ±${data.weights.scale.toFixed(2)})`;
  $("#gradient-scale").textContent = `(colour range ±${data.gradient.scale.toPrecision(2)})`;
  if (settings.mode === "train") preview.update(data.input);
  $("#example-label").textContent = String(data.label);
  $("#example-digit").textContent = String(data.digit);
  $("#example-cost").textContent = data.cost.toFixed(3);
  nudges.update(data.nudges, data.model.sizes.length - 1);
  $("#source-note").textContent = data.model.kind === "run" ? `live weights of run ${data.model.name} at epoch ${data.model.epoch}` : "";
  document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
}

async function refresh() {
  try {
    if (settings.mode === "draw") {
      if (!pixels) return;
      const body = { pixels: Array.from(pixels, (v) => Math.round(v * 1000) / 1000) };
      show(await postJSON("/api/lessons/gradient", { label: $("#drawn-label").value, top: 8, ...picker.source }, body));
    } else {
      show(await getJSON("/api/lessons/gradient", { index: settings.index, split: "train", top: 8, ...picker.source }));
    }
    $("#lesson-error").textContent = "";
  } catch (err) { $("#lesson-error").textContent = err.message; }
}

function setIndex(i) {
  settings.index = ((i % 60000) + 60000) % 60000;
  $("#example-index").value = String(settings.index);
  saveSettings(settings, SPEC);
  refresh();
}

function setMode(mode) {
  settings.mode = mode;
  $("#pick-train").hidden = mode !== "train";
  $("#pick-draw").hidden = mode !== "draw";
  $("#mode-train").setAttribute("aria-selected", String(mode === "train"));
  $("#mode-draw").setAttribute("aria-selected", String(mode === "draw"));
  saveSettings(settings, SPEC);
  if (mode === "draw") canvas.resize();
  refresh();
}

const sendDrawing = throttle(() => refresh(), 300);
const canvas = new DrawCanvas($("#draw-canvas"), (strokes) => {
  pixels = strokesToPixels(strokes);
  if (pixels) sendDrawing();
});
$("#clear-canvas").addEventListener("click", () => { canvas.clear(); pixels = null; });
$("#drawn-label").addEventListener("change", () => refresh());
$("#prev-example").addEventListener("click", () => setIndex(settings.index - 1));
$("#next-example").addEventListener("click", () => setIndex(settings.index + 1));
$("#random-example").addEventListener("click", () => setIndex(Math.floor(Math.random() * 60000)));
$("#example-index").addEventListener("change", (e) => setIndex(Math.round(Number(e.target.value) || 0)));
$("#mode-train").addEventListener("click", () => setMode("train"));
$("#mode-draw").addEventListener("click", () => setMode("draw"));
$("#example-index").value = String(settings.index);
picker.load();
setMode(settings.mode);
