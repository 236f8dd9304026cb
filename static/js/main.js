// Wiring only: build the widgets, hand each its messages, and start. Which run is watched lives in
// run-following.js, drawing -> answers in drawing-wiring.js, replay in replay-wiring.js, what the
// buttons do in run-actions.js; the widgets know nothing of each other or of the server (docs/api.md).
import { api } from "./api.js";
import { DrawCanvas } from "./canvas.js";
import { LearningCharts } from "./cost-chart.js";
import { wireDrawing } from "./drawing-wiring.js";
import { DEFAULT_NEURONS, Heatmaps } from "./heatmaps.js";
import { InputPreview } from "./input-preview.js";
import { LiveChannel } from "./live.js";
import { ModelPicker } from "./model-picker.js";
import { NetworkDiagram } from "./network-diagram.js";
import { NeuronDetail } from "./neuron-detail.js";
import { notify } from "./notice.js";
import { OutputBars } from "./output-bars.js";
import { Presentation } from "./presentation.js";
import { wireReplay } from "./replay-wiring.js";
import { wireActions } from "./run-actions.js";
import { RunControls } from "./run-controls.js";
import { wireFollowing } from "./run-following.js";
import { SavedModels } from "./saved-models.js";
import { StepView } from "./step-view.js";
import { Timeline } from "./timeline.js";
import { WatchBar } from "./watch-bar.js";
import { readChoice } from "./lib/url-state.js";

const $ = (sel) => document.querySelector(sel);
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

// Every module reaches the others through `app` at call time, so the order they are built in is free.
const app = { state, ui, api };
app.live = new LiveChannel({ onMessage, banner: $("#live-banner"),
  beforeReconnect: () => app.following.beforeReconnect() });
app.drawing = wireDrawing(app);
app.following = wireFollowing(app);
app.replay = wireReplay(app);
app.actions = wireActions(app);
const { actions, following } = app;
app.controls = new RunControls($("#run-panel"), $("#run-status"), {
  start: actions.startRun, action: actions.runAction, pick: actions.pickFromList, save: actions.saveRun,
  remove: actions.deleteRun,
});
app.bar = new WatchBar($("#watch-bar"), {
  playPause: () => actions.runAction(["running", "queued"].includes(app.controls.run?.status) ? "pause" : "resume"),
  step: actions.stepRun, reset: actions.resetRun,
  pace: async (pace) => { if (state.runId) following.showRunObject(await api.pace(state.runId, pace)); },
});
app.picker = new ModelPicker($("#model-picker"),
  (name) => following.choose(name ? { kind: "model", name } : { kind: "auto" }));
app.saved = new SavedModels($("#run-panel"),
  (name) => app.controls.attempt(() => actions.deleteModel(name), `Model "${name}" deleted.`, app.controls.rowMessage));
app.canvas = new DrawCanvas($("#draw-canvas"), app.drawing.onDraw);
app.timeline = new Timeline($("#timeline"), $("#timeline-label"), (snapshot) => app.replay.scrub(snapshot));
app.presentation = new Presentation($("#presentation"), () => ui.charts.rebuild());
$("#clear-canvas").addEventListener("click", () => app.canvas.clear());
$("#timeline-live").addEventListener("click", () => app.timeline.live());
$("#x-scale").addEventListener("click", () => ui.charts.setScale(ui.charts.log ? "linear" : "log"));
$("#follow-teacher").addEventListener("click", (e) => { e.preventDefault(); following.choose({ kind: "auto" }); });

/** One live message: to the widget it is for (docs/api.md lists the types). */
function onMessage(msg) {
  if (msg.type === "metrics") {
    ui.charts.update(msg);
    app.controls.update({ metrics: msg });
  } else if (msg.type === "weights") {
    if (!state.replay) ui.heatmaps.update(msg);
  } else if (msg.type === "network") {
    if (!state.replay) ui.network.setNetwork(msg);
  } else if (msg.type === "activations") {
    app.drawing.onActivations(msg);
  } else if (msg.type === "status" && msg.run?.id === state.runId) {
    following.showRunObject(msg.run);
  } else if (msg.type === "studio") {
    following.onStudio(msg);
  } else if (msg.type === "error") {
    console.warn("live channel:", msg.message);
  }
}

async function start() {
  app.live.send({ type: "neurons", indices: DEFAULT_NEURONS });
  try {
    const [models, spec] = await Promise.all([api.models(), api.runConfig().catch(() => null)]);
    state.models = models;
    state.spec = spec;
    app.bar.setSpec(spec);
    app.controls.setSpec(spec);
    if (state.choice.kind === "model" && !state.models.some((m) => m.name === state.choice.name)) {
      notify(`There is no model "${state.choice.name}", so the run being watched answers.`);
      state.choice = { kind: "auto" };
      following.saveUrl();
    }
    await following.readStudio();
    await following.watch();
  } catch (err) {
    notify(`Could not reach the server: ${err.message}`);
  }
  following.labels();
  setInterval(following.refreshRuns, RUNS_REFRESH_MS);
  setInterval(following.readStudio, STUDIO_POLL_MS);
  setInterval(() => { if (["running", "paused"].includes(app.controls.run?.status)) app.replay.refreshSnapshots(); },
    SNAPSHOTS_MS);
}

// For the browser tests and bench/bench_page.py.
window.studio = { state, ui, live: app.live, bar: app.bar, timeline: app.timeline, presentation: app.presentation };
start();
