// Lesson 4: the gradient of one example's cost: every weight's nudge in one column, the first
// layer's as pictures beside the weights, and one descent step with the cost before and after.
import { DrawCanvas } from "../canvas.js";
import { Heatmaps } from "../heatmaps.js";
import { InputPreview } from "../input-preview.js";
import { strokesToPixels } from "../lib/digitize.js";
import { throttle } from "../lib/throttle.js";
import { costText } from "./cost-table.js";
import { GradientColumn } from "./gradient-column.js";
import { getJSON, postJSON } from "./http.js";
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
// Pointing at a first-layer weight's row outlines its neuron's picture in both sets of maps.
const column = new GradientColumn($("#gradient-column"), $("#column-count"), (neuron) => {
  for (const c of document.querySelectorAll("#weight-maps canvas, #gradient-maps canvas")) {
    c.classList.toggle("picked", c.dataset.neuron === String(neuron));
  }
});
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
  $("#example-cost").textContent = costText(data.cost);
  column.update(data.column);
  $("#step-result").textContent = "Every weight and bias moves by −(learning rate) × its gradient.";
  $("#step-error").textContent = "";
  picker.shown(data.model);
  document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
}

/** Return the lesson's answer for the current example (or drawing); extra: more query parameters. */
async function ask(extra = {}) {
  if (settings.mode === "draw") {
    if (!pixels) return null;
    const body = { pixels: Array.from(pixels, (v) => Math.round(v * 1000) / 1000) };
    return postJSON("/api/lessons/gradient", { label: $("#drawn-label").value, top: 8, ...extra, ...picker.source }, body);
  }
  return getJSON("/api/lessons/gradient", { index: settings.index, split: "train", top: 8, ...extra, ...picker.source });
}

async function refresh() {
  try {
    const data = await ask();
    if (data) show(data);
    $("#lesson-error").textContent = "";
  } catch (err) { $("#lesson-error").textContent = err.message; }
}

/** One step of gradient descent on this example alone, made by the server: its cost before and after. */
async function applyStep() {
  try {
    const data = await ask({ learning_rate: $("#step-rate").value });
    if (!data) return;
    const { learning_rate: rate, before, after } = data.step;
    const n = data.column.total.toLocaleString("en");
    $("#step-result").textContent = `All ${n} weights and biases moved by −${rate} × their gradient. ` +
      `This example's cost: ${before.cost.toPrecision(3)} before → ${after.cost.toPrecision(3)} after ` +
      `(the network now says ${after.digit}, its output for ${data.label} went ` +
      `${before.activations[data.label].toFixed(3)} → ${after.activations[data.label].toFixed(3)}).`;
    $("#step-error").textContent = "";
    document.body.dataset.stepped = String(after.cost < before.cost);
  } catch (err) {
    $("#step-error").textContent = err.message;
    $("#step-result").textContent = "No step was taken.";
  }
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
$("#apply-step").addEventListener("click", applyStep);
$("#column-order").addEventListener("change", (e) => column.setOrder(e.target.value));
getJSON("/api/lessons/downhill/bounds").then((b) => { $("#step-rate").max = String(b.learning_rate.max); }).catch(() => {});
$("#example-index").value = String(settings.index);
picker.load();
setMode(settings.mode);
