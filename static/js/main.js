// Wiring only: which run is watched, which network answers, and which widget gets which message.
// The widgets know nothing of each other or of the server; see docs/api.md for the messages.
import { api, newestRun } from "./api.js";
import { DrawCanvas } from "./canvas.js";
import { LearningCharts } from "./cost-chart.js";
import { DEFAULT_NEURONS, Heatmaps } from "./heatmaps.js";
import { InputPreview } from "./input-preview.js";
import { LiveChannel } from "./live.js";
import { ModelPicker } from "./model-picker.js";
import { NetworkView } from "./network-view.js";
import { OutputBars } from "./output-bars.js";
import { RunControls } from "./run-controls.js";
import { SavedModels } from "./saved-models.js";
import { strokesToPixels } from "./lib/digitize.js";
import { serial, throttle } from "./lib/throttle.js";
import { readChoice, writeChoice } from "./lib/url-state.js";

const $ = (sel) => document.querySelector(sel);
const SEND_MS = 80;             // drawings go out at most ~12 times a second
const RUNS_REFRESH_MS = 5000;   // the run picker's statuses

const state = {
  choice: readChoice(location.search),  // {kind: "auto" | "run" | "model"}
  runId: null,                          // the run whose learning is shown (charts, weights, live)
  runs: [],
  models: [],
  pixels: null,                         // the current drawing as 784 numbers, or null
};

const ui = {
  preview: new InputPreview($("#input-preview")),
  main: new OutputBars($("#output-bars"), $("#predicted-digit"), "digit"),
  compare: new OutputBars($("#compare-bars"), $("#compare-digit"), "compareDigit"),
  network: new NetworkView($("#network-view")),
  charts: new LearningCharts($("#cost-chart"), $("#accuracy-chart")),
  heatmaps: new Heatmaps($("#weight-heatmaps"), $("#weight-scale")),
};
const live = new LiveChannel({ onMessage, banner: $("#live-banner"), beforeReconnect });
const controls = new RunControls($("#run-panel"), $("#run-status"), {
  start: startRun, action: (name) => runAction(name), pick: (id) => choose({ kind: "run", id }), save: saveRun,
  remove: deleteRun,
});
const picker = new ModelPicker($("#model-picker"),
  (name) => choose(name ? { kind: "model", name } : (state.runId ? { kind: "run", id: state.runId } : { kind: "auto" })));
const saved = new SavedModels($("#run-panel"),
  (name) => controls.attempt(() => deleteModel(name), `Model "${name}" deleted.`));
const canvas = new DrawCanvas($("#draw-canvas"), onDraw);
$("#clear-canvas").addEventListener("click", () => canvas.clear());

/** Return where model predictions go: {main, compare} each a model name or null (= the live run). */
function roles() {
  const names = state.models.map((m) => m.name);
  const best = names.includes("best") ? "best" : names[0] ?? null;
  if (state.choice.kind === "model") return { main: state.choice.name, compare: null };
  if (!state.runId) return { main: best, compare: null };   // no run on the server: a model answers
  return { main: null, compare: best };
}

// ---- drawing -> answers ----------------------------------------------------------------

const predictModel = serial(async (name, pixels) => {
  const out = await api.predict({ model: name }, pixels);
  if (!state.pixels) return;                  // cleared while the request was out
  const answer = { digit: out.digit, activations: out.activations };
  if (roles().main === name) {
    ui.main.update(answer);
    ui.network.update(out.hidden);
  } else if (roles().compare === name) {
    ui.compare.update(answer);
  }
}, (err) => console.warn("predict:", err.message));

const sendDrawing = throttle((pixels) => {
  live.send({ type: "draw", pixels: pixels ? Array.from(pixels, (v) => Math.round(v * 1000) / 1000) : null });
  const { main, compare } = roles();
  for (const name of [main, compare]) if (name && pixels) predictModel(name, pixels);
}, SEND_MS);

function onDraw(strokes, { done }) {
  state.pixels = strokesToPixels(strokes);
  $("#draw-hint").hidden = strokes.length > 0;
  ui.preview.update(state.pixels);
  if (!state.pixels) {
    for (const bars of [ui.main, ui.compare]) bars.update(null);
    ui.network.update(null);
  }
  sendDrawing(state.pixels);
  if (done) sendDrawing.flush();
}

/** The live run's answer for this page's drawing (after each drawing and each weight update). */
function onActivations(msg) {
  if (!state.pixels || !Array.isArray(msg.layers) || !msg.layers.length) return;
  const answer = { digit: msg.digit, activations: msg.layers.at(-1) };
  if (roles().main === null) {
    ui.main.update(answer);
    ui.network.update(msg.layers.slice(0, -1));
  } else {
    ui.compare.update(answer);
  }
}

// ---- the run being watched ---------------------------------------------------------------

function onMessage(msg) {
  if (msg.type === "metrics") {
    ui.charts.update(msg);
    controls.update({ metrics: msg });
  } else if (msg.type === "weights") {
    ui.heatmaps.update(msg);
  } else if (msg.type === "activations") {
    onActivations(msg);
  } else if (msg.type === "status" && msg.run?.id === state.runId) {
    controls.update({ run: msg.run });
    labels();
  } else if (msg.type === "error") {
    console.warn("live channel:", msg.message);
  }
}

/** Return the id of the run to watch now (the named one if it still exists, else the newest). */
async function pickRun() {
  state.runs = await api.runs();
  const named = state.choice.kind === "run" ? state.runs.find((r) => r.id === state.choice.id) : null;
  const id = (named ?? newestRun(state.runs))?.id ?? null;
  if (state.choice.kind === "run" && !named) {
    notify(`Run ${state.choice.id} is not on the server (restarted?): ` +
      (id ? `showing run ${id} instead.` : "start a run under \u201cRuns\u201d below."));
    state.choice = { kind: "auto" };
    saveUrl();
  }
  return id;
}

/**
 * Load a run's story so far (status, history) into the page; the live channel brings the rest.
 * fresh: redraw the charts from the history even if the id is the same (after a server restart
 * "r1" can be another run).
 */
async function showRun(id, fresh = false) {
  const changed = fresh || id !== state.runId;
  state.runId = id;
  controls.setRuns(state.runs, id);
  if (!id) {
    if (changed) ui.charts.reset();
    controls.update({ run: null });
    return;
  }
  const [run, history] = await Promise.all([api.run(id), api.history(id)]);
  if (changed) ui.charts.reset(history.points);
  else for (const p of history.points) ui.charts.update(p);
  controls.update({ run });
  labels();
}

async function beforeReconnect() {
  await api.health();                 // throws while the server is down: the channel waits and retries
  const id = await pickRun();
  await showRun(id, true);
  return id;
}

async function watch() {
  const id = await pickRun();
  await showRun(id);
  live.watch(id);   // null (no run left): closes the socket
}

/** Show a sentence under the title for a while (things the page decided on its own). */
function notify(text, ms = 10_000) {
  const el = $("#notice");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { el.hidden = true; }, ms);
}

function labels() {
  // The controls hear every status change at once over the live channel; the run list is polled.
  const run = (controls.run?.id === state.runId ? controls.run : null)
    ?? state.runs.find((r) => r.id === state.runId) ?? controls.run;
  const runText = run ? `run ${run.id}: ${run.status === "running" ? "learning now" : run.status}`
    : "no run yet: start one under \u201cRuns\u201d";
  const { main, compare } = roles();
  $("#watched-label").textContent = main ? `model "${main}"` : runText;
  $("#compare-label").textContent = compare ? `model "${compare}" (fully trained)` : runText;
  $(".compare-answer").hidden = !(main ? state.runId : compare);
  picker.update({ models: state.models, chosen: main ?? "", runLabel: run?.id });
  saved.update(state.models);
}

// ---- choices, run controls ---------------------------------------------------------------

function saveUrl() {
  history.replaceState(null, "", `${location.pathname}${writeChoice(state.choice, location.search)}`);
}

async function choose(choice) {
  state.choice = choice;
  saveUrl();
  await watch();
  labels();
  ui.main.update(null);
  ui.compare.update(null);
  if (state.pixels) sendDrawing(state.pixels);
}

async function startRun(config) {
  const run = await api.start(config);
  await choose({ kind: "run", id: run.id });
}

async function runAction(name) {
  if (!state.runId) throw new Error("No run is being watched.");
  controls.update({ run: await api.action(state.runId, name) });
  labels();
}

async function saveRun(name) {
  if (!state.runId) throw new Error("No run is being watched.");
  await api.save(state.runId, name);
  state.models = await api.models();
  labels();
}

/** Delete an ended run; the page then watches the newest run left (or none). */
async function deleteRun(id) {
  await api.deleteRun(id);
  await choose({ kind: "auto" });
}

/** Delete a saved model; if it was answering, the run being watched answers again. */
async function deleteModel(name) {
  await api.deleteModel(name);
  state.models = await api.models();
  if (state.choice.kind === "model" && state.choice.name === name) await choose({ kind: "auto" });
  labels();
}

async function refreshRuns() {
  try {
    state.runs = await api.runs();
    controls.setRuns(state.runs, state.runId);
    if (state.choice.kind === "auto" && !state.runs.some((r) => r.id === state.runId)) await watch();
  } catch { /* the live channel's banner already says the server is away */ }
}

async function start() {
  live.send({ type: "neurons", indices: DEFAULT_NEURONS });
  try {
    state.models = await api.models();
    if (state.choice.kind === "model" && !state.models.some((m) => m.name === state.choice.name)) {
      notify(`There is no model "${state.choice.name}", so the run being watched answers.`);
      state.choice = { kind: "auto" };
      saveUrl();
    }
    await watch();
  } catch (err) {
    notify(`Could not reach the server: ${err.message}`);
  }
  labels();
  setInterval(refreshRuns, RUNS_REFRESH_MS);
}

window.studio = { state, ui, live };   // for the browser tests and bench/bench_page.py
start();
