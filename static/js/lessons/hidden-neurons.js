// Lesson 8: first-layer weight maps, hoped-for against learned, a wider network, and a timeline of
// a run (frames recorded by the server while the run trains).
import { api, newestRun } from "../api.js";
import { Heatmaps } from "../heatmaps.js";
import { ACTIVE } from "../lib/run-config.js";
import { throttle } from "../lib/throttle.js";
import { getJSON, postJSON } from "./http.js";
import { readSettings, saveSettings } from "./query.js";
import { SourcePicker } from "./source.js";

const $ = (sel) => document.querySelector(sel);
const SPEC = {
  trun: { type: "name", pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, default: "" },
  frame: { type: "number", min: 0, max: 100000, integer: true, default: 0 },
};
const settings = readSettings(window.location.search, SPEC);
const ideal = new Heatmaps($("#ideal-maps"), null);
const learned = new Heatmaps($("#learned-maps"), null);
const second = new Heatmaps($("#second-maps"), null);
const wide = new Heatmaps($("#wide-maps"), null);
const timelineMaps = new Heatmaps($("#timeline-maps"), null);
const picker = new SourcePicker($("#source-picker"), () => showLearned());
const say = (err) => { $("#lesson-error").textContent = err ? err.message : ""; };
let frames = [], playing = null, wideRun = null;

async function showLearned() {
  try {
    const [msg, deeper] = await Promise.all([getJSON("/api/lessons/weights", { neurons: 16, ...picker.source }),
      getJSON("/api/lessons/weights", { neurons: 16, layer: 2, ...picker.source }).catch((err) => err)]);
    learned.update(msg);
    picker.shown(msg.model);
    const m = msg.model;
    $("#learned-note").textContent = m.kind === "run" ? `(run ${m.name}, epoch ${m.epoch})` : `(${m.kind} ${m.name})`;
    // A network with one hidden layer has no second layer to show: say so instead of a picture.
    if (deeper instanceof Error) {
      second.root.replaceChildren();
      second.cells = [];
      $("#second-note").textContent = `(${deeper.message})`;
    } else {
      second.update(deeper);
      $("#second-note").textContent = "";
    }
    document.body.dataset.learned = "1";
  } catch (err) { say(err); }
}

async function showWide(start = false) {
  try {
    const found = start ? await postJSON("/api/lessons/runs/wide") : null;
    if (found) wideRun = found.runs.wide;
    if (!wideRun) return;
    const run = await api.run(wideRun.id);
    wideRun = run;
    $("#wide-note").textContent = `run ${run.id}: ${run.status}, epoch ${run.progress.epoch.toFixed(2)}` +
      (run.metrics?.test_accuracy ? `, test ${(100 * run.metrics.test_accuracy).toFixed(1)}%` : "");
    if (run.metrics) wide.update(await getJSON("/api/lessons/weights", { neurons: 16, run: run.id }));
  } catch (err) { say(err); }
}

const showFrame = throttle(async (index) => {
  if (!frames.length || !settings.trun) return;
  try {
    const msg = await getJSON("/api/lessons/timeline/frame", { run: settings.trun, index });
    timelineMaps.update(msg);
    const acc = Number.isFinite(msg.test_accuracy) ? `, test ${(100 * msg.test_accuracy).toFixed(1)}%` : "";
    $("#timeline-label").textContent = `epoch ${msg.epoch.toFixed(2)} (step ${msg.step})${acc}`;
    document.body.dataset.frame = String(index);
  } catch (err) { say(err); }
}, 80);

async function loadTimeline() {
  if (!settings.trun) return;
  try {
    const data = await getJSON("/api/lessons/timeline", { run: settings.trun });
    const atEnd = Number($("#timeline").value) >= frames.length - 1;
    frames = data.frames;
    const slider = $("#timeline");
    slider.max = String(Math.max(0, frames.length - 1));
    if (atEnd && !playing) slider.value = slider.max;  // follow the newest frame unless the teacher scrubs
    else slider.value = String(Math.min(settings.frame, frames.length - 1));
    showFrame(Number(slider.value));
    document.body.dataset.frames = String(frames.length);
  } catch (err) { say(err); }
}

async function pickRuns() {
  const runs = await api.runs();
  const choice = settings.trun && runs.some((r) => r.id === settings.trun) ? settings.trun
    : (runs.find((r) => r.name === "default") ?? newestRun(runs))?.id ?? "";
  $("#timeline-run").replaceChildren(...runs.map((r) => new Option(`${r.name} (${r.status})`, r.id)));
  $("#timeline-run").value = choice;
  settings.trun = choice;
  const found = runs.find((r) => r.name === "hidden neurons: wide" && ACTIVE.concat("finished").includes(r.status));
  if (found) { wideRun = found; showWide(); }
}

$("#timeline").addEventListener("input", (e) => {
  settings.frame = Number(e.target.value);
  saveSettings(settings, SPEC);
  showFrame(settings.frame);
});
$("#timeline-run").addEventListener("change", (e) => {
  settings.trun = e.target.value;
  settings.frame = 0;
  $("#timeline").value = "0";
  saveSettings(settings, SPEC);
  loadTimeline();
});
$("#play-timeline").addEventListener("click", () => {
  if (playing) { clearInterval(playing); playing = null; $("#play-timeline").textContent = "▶ Play"; return; }
  const slider = $("#timeline");
  if (Number(slider.value) >= frames.length - 1) slider.value = "0";
  $("#play-timeline").textContent = "⏸ Pause";
  playing = setInterval(() => {
    const next = Number(slider.value) + 1;
    if (next > frames.length - 1) { $("#play-timeline").click(); return; }
    slider.value = String(next);
    settings.frame = next;
    showFrame(next);
  }, 150);
});
$("#start-wide").addEventListener("click", () => showWide(true));
$("#start-timeline").addEventListener("click", async () => {
  try {
    const found = await postJSON("/api/lessons/runs/timeline");
    settings.trun = found.runs.timeline.id;
    settings.frame = 0;
    saveSettings(settings, SPEC);
    await pickRuns();
    loadTimeline();
  } catch (err) { say(err); }
});

getJSON("/api/lessons/hidden/ideal").then((msg) => {
  ideal.update(msg);
  requestAnimationFrame(() => msg.names.forEach((name, k) => { const c = $("#ideal-maps").children[k]; if (c) c.title = name; }));
}).catch(say);
picker.load();
showLearned();
pickRuns().then(loadTimeline).catch(say);
setInterval(() => {
  if (picker.source.run) showLearned();
  if (wideRun && ACTIVE.includes(wideRun.status)) showWide();
  loadTimeline();
}, 2000);
