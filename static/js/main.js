// Wiring only: which run is watched (the teacher's, unless this viewer picked one), which network
// answers, and which widget gets which message. The widgets know nothing of each other or of the
// server; see docs/api.md for the messages.
import { api } from "./api.js";
import { DrawCanvas } from "./canvas.js";
import { LearningCharts } from "./cost-chart.js";
import { DEFAULT_NEURONS, Heatmaps } from "./heatmaps.js";
import { InputPreview } from "./input-preview.js";
import { LiveChannel } from "./live.js";
import { ModelPicker } from "./model-picker.js";
import { NetworkDiagram } from "./network-diagram.js";
import { NeuronDetail } from "./neuron-detail.js";
import { OutputBars } from "./output-bars.js";
import { Presentation } from "./presentation.js";
import { RunControls } from "./run-controls.js";
import { SavedModels } from "./saved-models.js";
import { StepView } from "./step-view.js";
import { Timeline } from "./timeline.js";
import { WatchBar } from "./watch-bar.js";
import { strokesToPixels } from "./lib/digitize.js";
import { offerFollow, runToWatch } from "./lib/follow.js";
import { serial, throttle } from "./lib/throttle.js";
import { readChoice, writeChoice } from "./lib/url-state.js";

const $ = (sel) => document.querySelector(sel);
const SEND_MS = 80;             // drawings go out at most ~12 times a second
const RUNS_REFRESH_MS = 5000;   // the run picker's statuses
const STUDIO_POLL_MS = 1500;    // the teacher's watched run, besides the live `studio` message
const SNAPSHOTS_MS = 4000;      // the replay slider's list, while the run trains

const state = {
  choice: readChoice(location.search),  // {kind: "auto" (follow the teacher) | "run" | "model"}
  runId: null,                          // the run whose learning is shown (charts, weights, live)
  runs: [],
  models: [],
  pixels: null,                         // the current drawing as 784 numbers, or null
  watched: undefined,                   // the studio's watched run (GET /api/studio); null: none; undefined: unknown
  replay: null,                         // the snapshot being replayed, or null (live)
  spec: null,                           // GET /api/run-config
};

const ui = {
  preview: new InputPreview($("#input-preview")),
  main: new OutputBars($("#output-bars"), $("#predicted-digit"), "digit"),
  compare: new OutputBars($("#compare-bars"), $("#compare-digit"), "compareDigit"),
  charts: new LearningCharts($("#cost-chart"), $("#accuracy-chart"), $("#accuracy-now"), $("#x-scale")),
  heatmaps: new Heatmaps($("#weight-heatmaps"), $("#weight-scale")),
  step: new StepView($("#step-result")),
};
ui.detail = new NeuronDetail($("#neuron-detail"),
  (layer, index) => api.neuron(state.runId, layer, index, state.replay?.index));
ui.network = new NetworkDiagram($("#network-diagram"), (...args) => ui.detail.show(...args));
const live = new LiveChannel({ onMessage, banner: $("#live-banner"), beforeReconnect });
const controls = new RunControls($("#run-panel"), $("#run-status"), {
  start: startRun, action: (name) => runAction(name), pick: pickFromList, save: saveRun,
  remove: deleteRun,
});
const bar = new WatchBar($("#watch-bar"), {
  playPause: () => runAction(["running", "queued"].includes(controls.run?.status) ? "pause" : "resume"),
  step: stepRun, reset: resetRun,
  pace: async (pace) => { if (state.runId) showRunObject(await api.pace(state.runId, pace)); },
});
const picker = new ModelPicker($("#model-picker"),
  (name) => choose(name ? { kind: "model", name } : { kind: "auto" }));
const saved = new SavedModels($("#run-panel"),
  (name) => controls.attempt(() => deleteModel(name), `Model "${name}" deleted.`, controls.rowMessage));
const canvas = new DrawCanvas($("#draw-canvas"), onDraw);
const timeline = new Timeline($("#timeline"), $("#timeline-label"), scrub);
const presentation = new Presentation($("#presentation"), () => ui.charts.rebuild());
$("#clear-canvas").addEventListener("click", () => canvas.clear());
$("#timeline-live").addEventListener("click", () => timeline.live());
$("#x-scale").addEventListener("click", () => ui.charts.setScale(ui.charts.log ? "linear" : "log"));
$("#follow-teacher").addEventListener("click", (e) => { e.preventDefault(); choose({ kind: "auto" }); });

/** Return where model predictions go: {main, compare} each a model name or null (= the live run). */
function roles() {
  const names = state.models.map((m) => m.name);
  const best = names.includes("best") ? "best" : names[0] ?? null;
  if (state.choice.kind === "model") return { main: state.choice.name, compare: null };
  if (!state.runId) return { main: best, compare: null };   // no run on the server: a model answers
  return { main: null, compare: best };
}

// ---- drawing -> answers ----------------------------------------------------------------

/** target: {model} or {run, snapshot}: ask predict, and show the answer where it belongs. */
const predict = serial(async (target, pixels) => {
  const out = await api.predict(target, pixels);
  if (!state.pixels) return;                  // cleared while the request was out
  const answer = { digit: out.digit, activations: out.activations };
  if (target.run !== undefined || roles().main === target.model) {
    ui.main.update(answer);
    ui.network.setActivations([...(out.hidden ?? []), out.activations]);
  } else if (roles().compare === target.model) {
    ui.compare.update(answer);
  }
}, (err) => console.warn("predict:", err.message));

const sendDrawing = throttle((pixels) => {
  live.send({ type: "draw", pixels: pixels ? Array.from(pixels, (v) => Math.round(v * 1000) / 1000) : null });
  if (!pixels) return;
  const { main, compare } = roles();
  if (state.replay && !main) predict({ run: state.runId, snapshot: state.replay.index }, pixels);
  for (const name of [main, compare]) if (name) predict({ model: name }, pixels);
}, SEND_MS);

function onDraw(strokes, { done }) {
  state.pixels = strokesToPixels(strokes);
  $("#draw-hint").hidden = strokes.length > 0;
  ui.preview.update(state.pixels);
  ui.network.setInput(state.pixels);
  if (!state.pixels) {
    for (const bars of [ui.main, ui.compare]) bars.update(null);
    ui.network.setActivations(null);
  }
  sendDrawing(state.pixels);
  if (done) sendDrawing.flush();
}

/** The live run's answer for this page's drawing (after each drawing and each weight update). */
function onActivations(msg) {
  if (!state.pixels || !Array.isArray(msg.layers) || !msg.layers.length) return;
  const answer = { digit: msg.digit, activations: msg.layers.at(-1) };
  if (roles().main === null) {
    if (state.replay) return;                 // the replayed snapshot answers (predict), not the live one
    ui.main.update(answer);
    ui.network.setActivations(msg.layers);
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
    if (!state.replay) ui.heatmaps.update(msg);
  } else if (msg.type === "network") {
    if (!state.replay) ui.network.setNetwork(msg);
  } else if (msg.type === "activations") {
    onActivations(msg);
  } else if (msg.type === "status" && msg.run?.id === state.runId) {
    showRunObject(msg.run);
  } else if (msg.type === "studio") {
    onStudio(msg);
  } else if (msg.type === "error") {
    console.warn("live channel:", msg.message);
  }
}

/** A run object arrived (status message, REST answer): controls, main-screen bar, warning, labels. */
function showRunObject(run) {
  if (!run || run.id !== state.runId) return;
  // The run list says each run's status: the watched run's changes show at once, others at the next poll.
  state.runs = state.runs.map((r) => (r.id === run.id ? { ...r, status: run.status } : r));
  controls.setRuns(state.runs, state.runId);
  controls.update({ run });
  bar.update(controls.run);
  const warning = $("#run-warning");
  warning.hidden = !run.warning;
  const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);
  warning.textContent = run.warning ? `This run has stopped learning: ${sentence(run.warning.message)}` +
    (run.warning.suggestion ? ` Suggestion: ${sentence(run.warning.suggestion)}` : "") : "";
  labels();
}

/** The teacher's watched run changed (or was read): follow it unless this viewer picked a run. */
function onStudio(msg) {
  if (msg.watched === undefined) return;
  state.watched = msg.watched;
  if (state.choice.kind === "auto" && state.watched && state.watched !== state.runId) {
    watch().catch((err) => notify(`Could not follow the teacher: ${err.message}`));
  }
  followLink();
}

function followLink() {
  const off = offerFollow(state.choice, state.watched, state.runId);
  $(".follow").hidden = !off;
  $("#follow-text").textContent = off ? `The teacher is showing run ${state.watched}.` : "";
}

/** Return the id of the run to watch now: the one named, else the teacher's, else the newest. */
async function pickRun() {
  state.runs = await api.runs();
  const { id, lost } = runToWatch(state.choice, state.runs, state.watched);
  if (lost) {
    notify(`Run ${state.choice.id} is not on the server (restarted?): ` +
      (id ? `showing run ${id} instead.` : "start a run under \u201cRuns\u201d below."));
    state.choice = { kind: "auto" };
    saveUrl();
  }
  return id;
}

/**
 * Load a run's story so far (status, history, snapshots, network) into the page; the live channel
 * brings the rest. fresh: redraw the charts even if the id is the same (after a server restart
 * "r1" can be another run).
 */
async function showRun(id, fresh = false) {
  const changed = fresh || id !== state.runId;
  state.runId = id;
  controls.setRuns(state.runs, id);
  if (changed && state.replay) timeline.live();
  if (!id) {
    if (changed) ui.charts.reset();
    controls.update({ run: null });
    bar.update(null);
    return;
  }
  const [run, history] = await Promise.all([api.run(id), api.history(id)]);
  if (id !== state.runId) return;             // another switch happened meanwhile
  if (changed) {
    ui.charts.reset(history.points);
    ui.step.update(null);
  } else for (const p of history.points) ui.charts.update(p);
  showRunObject(run);
  refreshSnapshots();
  api.network(id).then((net) => { if (id === state.runId && !state.replay) ui.network.setNetwork(net); }, () => {});
}

async function beforeReconnect() {
  await api.health();                 // throws while the server is down: the channel waits and retries
  await readStudio();
  const id = await pickRun();
  await showRun(id, true);
  return id;
}

let watchSeq = 0;
/** Watch the run pickRun names; of calls that overlap, the newest wins. */
async function watch() {
  const seq = ++watchSeq;
  const id = await pickRun();
  if (seq !== watchSeq) return;
  await showRun(id);
  if (seq !== watchSeq) return;
  live.watch(id);   // null (no run left): closes the socket
  followLink();
  labels();
}

async function readStudio() {
  try {
    onStudio(await api.studio());
  } catch (err) {
    if (err.status === 404) state.watched = undefined;   // a server without a studio: newest run
  }
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
  const runText = !run ? "no run yet: start one under \u201cRuns\u201d"
    : state.replay ? `run ${run.id} as it was after ${state.replay.examples_seen.toLocaleString("en")} examples`
      : `run ${run.id}: ${run.status === "running" ? "learning now" : run.status}`;
  const { main, compare } = roles();
  $("#watched-label").textContent = main ? `model "${main}"` : runText;
  $("#compare-label").textContent = compare ? `"${compare}" (fully trained)` : runText;
  $(".compare-answer").hidden = !(main ? state.runId : compare);
  picker.update({ models: state.models, chosen: main ?? "", runLabel: run?.id });
  saved.update(state.models);
  controls.models = state.models;
}

// ---- replay ----------------------------------------------------------------------------

async function refreshSnapshots() {
  if (!state.runId) return timeline.set([]);
  try {
    const out = await api.snapshots(state.runId);
    if (out.id === undefined || out.id === state.runId) timeline.set(out.snapshots);
  } catch (err) {
    if (err.status === 404) timeline.set([]);   // a server without snapshots (or a run without any): no replay
  }
}

/** The slider moved: show the network as it was at that snapshot (null: live again). */
async function scrub(snapshot) {
  state.replay = snapshot;
  ui.charts.setCursor(snapshot ? snapshot.examples_seen : null);
  const id = state.runId;
  if (!id) return;
  const at = snapshot?.index;
  try {
    const [net, weights] = await Promise.all([api.network(id, at),
      snapshot ? api.snapshotWeights(id, at, DEFAULT_NEURONS) : null]);
    if (id !== state.runId || state.replay?.index !== at) return;
    ui.network.setNetwork(net);
    if (weights) ui.heatmaps.update(weights);
  } catch (err) {
    notify(`Replay: ${err.message}`);
  }
  ui.detail.refresh();
  labels();
  if (state.pixels) sendDrawing(state.pixels);
}

// ---- choices, run controls ---------------------------------------------------------------

function saveUrl() {
  history.replaceState(null, "", `${location.pathname}${writeChoice(state.choice, location.search)}`);
}

async function choose(choice) {
  state.choice = choice;
  saveUrl();
  await watch();
  ui.main.update(null);
  ui.compare.update(null);
  if (state.pixels) sendDrawing(state.pixels);
}

/**
 * The run picker: the teacher's pick becomes every page's watched run (PUT /api/studio); a student's
 * (the server refuses: 401/403) stays on this page, with a link back to the teacher's run.
 */
async function pickFromList(id) {
  try {
    onStudio(await api.setWatched(id));
    await choose({ kind: "auto" });
  } catch (err) {
    if (err.status !== 401 && err.status !== 403) throw err;
    await choose({ kind: "run", id });
  }
}

/** A run started here becomes the teacher's watched run (the server does that): follow it. */
async function startRun(config) {
  const run = await api.start(config);
  state.watched = run.id;
  await choose({ kind: "auto" });
  return run;
}

/** Reset: the same settings (or the bar's), a new seed; the old run stops if it still trains. */
async function resetRun(config) {
  const old = controls.run;
  await startRun(config);
  if (old && ["queued", "running", "paused"].includes(old.status)) {
    await api.action(old.id, "stop").catch((err) => console.warn("reset: the old run goes on:", err.message));
  }
}

async function stepRun() {
  if (!state.runId) throw new Error("No run is being watched.");
  const result = await api.step(state.runId, 1);
  ui.step.update(result);
  showRunObject(result.run);
}

async function runAction(name) {
  if (!state.runId) throw new Error("No run is being watched.");
  showRunObject(await api.action(state.runId, name));
}

async function saveRun(name, overwrite) {
  if (!state.runId) throw new Error("No run is being watched.");
  await api.save(state.runId, name, overwrite);
  state.models = await api.models();
  labels();
}

/** Delete an ended run; the page then follows the teacher again. */
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
    const [models, spec] = await Promise.all([api.models(), api.runConfig().catch(() => null)]);
    state.models = models;
    state.spec = spec;
    bar.setSpec(spec);
    controls.setSpec(spec);
    if (state.choice.kind === "model" && !state.models.some((m) => m.name === state.choice.name)) {
      notify(`There is no model "${state.choice.name}", so the run being watched answers.`);
      state.choice = { kind: "auto" };
      saveUrl();
    }
    await readStudio();
    await watch();
  } catch (err) {
    notify(`Could not reach the server: ${err.message}`);
  }
  labels();
  setInterval(refreshRuns, RUNS_REFRESH_MS);
  setInterval(readStudio, STUDIO_POLL_MS);
  setInterval(() => { if (["running", "paused"].includes(controls.run?.status)) refreshSnapshots(); }, SNAPSHOTS_MS);
}

window.studio = { state, ui, live, bar, timeline, presentation };   // for the browser tests and bench/bench_page.py
start();
