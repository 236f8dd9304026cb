// Lesson 5: noise in, confident answers out. Noise images and answers come from the server.
import { InputPreview } from "../input-preview.js";
import { OutputBars } from "../output-bars.js";
import { getJSON } from "./http.js";
import { readSettings, saveSettings } from "./query.js";
import { SourcePicker } from "./source.js";

const $ = (sel) => document.querySelector(sel);
const SPEC = {
  kind: { type: "enum", values: ["uniform", "gaussian", "salt", "blank"], default: "salt" },
  seed: { type: "number", min: 0, max: 999999, integer: true, default: 0 },
  density: { type: "number", min: 0.01, max: 0.6, default: 0.1 },
};
const settings = readSettings(window.location.search, SPEC);
const preview = new InputPreview($("#noise-image"));
const bars = new OutputBars($("#noise-bars"), $("#predicted-digit"));
const picker = new SourcePicker($("#source-picker"), () => refresh());
const pct = (v) => `${Math.round(100 * v)}%`;

function winners(counts) {
  const top = Math.max(1, ...counts);
  $("#winners").replaceChildren(...counts.map((c, d) => {
    const bar = document.createElement("span");
    bar.style.height = `${(100 * c) / top}%`;
    bar.title = `${d}: ${c} of 200`;
    return bar;
  }));
}

async function refresh() {
  try {
    const data = await getJSON("/api/lessons/noise", { kind: settings.kind, seed: settings.seed, density: settings.density, ...picker.source });
    preview.update(data.input);
    bars.update({ digit: data.digit, activations: data.activations });
    $("#noise-seed").textContent = String(data.seed);
    $("#noise-top").textContent = data.noise.mean_top.toFixed(2);
    $("#noise-confident").textContent = pct(data.noise.share_confident);
    $("#digits-top").textContent = `average ${data.digits.mean_top.toFixed(2)}`;
    $("#digits-confident").textContent = `above 0.5 in ${pct(data.digits.share_confident)}`;
    winners(data.noise.winners);
    picker.shown(data.model);
    $("#lesson-error").textContent = "";
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (err) { $("#lesson-error").textContent = err.message; }
}

function apply() {
  $("#noise-kind").value = settings.kind;
  $("#density").value = String(settings.density);
  $("#density-value").textContent = settings.density.toFixed(2);
  $("#density-label").hidden = settings.kind !== "salt";
  $("#new-noise").disabled = settings.kind === "blank";
  saveSettings(settings, SPEC);
}

$("#noise-kind").addEventListener("change", (e) => { settings.kind = e.target.value; apply(); refresh(); });
$("#density").addEventListener("input", (e) => { settings.density = Number(e.target.value); apply(); });
$("#density").addEventListener("change", () => refresh());
$("#new-noise").addEventListener("click", () => { settings.seed = (settings.seed + 1) % 1000000; apply(); refresh(); });
apply();
picker.load();
refresh();
