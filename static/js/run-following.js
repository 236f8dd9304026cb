// Which run this page watches: the teacher's (GET /api/studio and the live `studio` message) unless
// the viewer picked one, loading a run's story into the widgets, and the labels that say whose
// answer is shown. `app` is main.js's bag of state and widgets.
import { notify } from "./notice.js";
import { offerFollow, runToWatch } from "./lib/follow.js";
import { writeChoice } from "./lib/url-state.js";

const $ = (sel) => document.querySelector(sel);

export function wireFollowing(app) {
  const { state, ui, api } = app;

  /** A run object arrived (status message, REST answer): controls, main-screen bar, warning, labels. */
  function showRunObject(run) {
    if (!run || run.id !== state.runId) return;
    // The run list says each run's status: the watched run's changes show at once, others at the next poll.
    state.runs = state.runs.map((r) => (r.id === run.id ? { ...r, status: run.status } : r));
    app.controls.setRuns(state.runs, state.runId);
    app.controls.update({ run });
    app.bar.update(app.controls.run);
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
    app.controls.setRuns(state.runs, id);
    if (changed && state.replay) app.timeline.live();
    if (!id) {
      if (changed) ui.charts.reset();
      app.controls.update({ run: null });
      app.bar.update(null);
      return;
    }
    const [run, history] = await Promise.all([api.run(id), api.history(id)]);
    if (id !== state.runId) return;             // another switch happened meanwhile
    if (changed) {
      ui.charts.reset(history.points);
      ui.step.update(null);
    } else for (const p of history.points) ui.charts.update(p);
    showRunObject(run);
    app.replay.refreshSnapshots();
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
    app.live.watch(id);   // null (no run left): closes the socket
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

  function labels() {
    // The controls hear every status change at once over the live channel; the run list is polled.
    const run = (app.controls.run?.id === state.runId ? app.controls.run : null)
      ?? state.runs.find((r) => r.id === state.runId) ?? app.controls.run;
    const runText = !run ? "no run yet: start one under \u201cRuns\u201d"
      : state.replay ? `run ${run.id} as it was after ${state.replay.examples_seen.toLocaleString("en")} examples`
        : `run ${run.id}: ${run.status === "running" ? "learning now" : run.status}`;
    const { main, compare } = app.drawing.roles();
    $("#watched-label").textContent = main ? `model "${main}"` : runText;
    $("#compare-label").textContent = compare ? `"${compare}" (fully trained)` : runText;
    $(".compare-answer").hidden = !(main ? state.runId : compare);
    app.picker.update({ models: state.models, chosen: main ?? "", runLabel: run?.id });
    app.saved.update(state.models);
    app.controls.models = state.models;
  }

  function saveUrl() {
    history.replaceState(null, "", `${location.pathname}${writeChoice(state.choice, location.search)}`);
  }

  async function choose(choice) {
    state.choice = choice;
    saveUrl();
    await watch();
    ui.main.update(null);
    ui.compare.update(null);
    if (state.pixels) app.drawing.sendDrawing(state.pixels);
  }

  async function refreshRuns() {
    try {
      state.runs = await api.runs();
      app.controls.setRuns(state.runs, state.runId);
      if (state.choice.kind === "auto" && !state.runs.some((r) => r.id === state.runId)) await watch();
    } catch { /* the live channel's banner already says the server is away */ }
  }

  return { showRunObject, onStudio, beforeReconnect, watch, readStudio, labels, saveUrl, choose, refreshRuns };
}
