// What the run controls do: pick, start, reset, step, pause/resume/stop, save, delete. Errors are
// thrown with the server's words; the control that was used shows them. `app` is main.js's bag.

import { ACTIVE } from "./lib/run-config.js";

export function wireActions(app) {
  const { state, api } = app;
  const follow = () => app.following;

  /**
   * The run picker: the teacher's pick becomes every page's watched run (PUT /api/studio); a student's
   * (the server refuses: 401/403) stays on this page, with a link back to the teacher's run.
   */
  async function pickFromList(id) {
    try {
      follow().onStudio(await api.setWatched(id));
      await follow().choose({ kind: "auto" });
    } catch (err) {
      if (err.status !== 401 && err.status !== 403) throw err;
      await follow().choose({ kind: "run", id });
    }
  }

  /** A run started here becomes the teacher's watched run (the server does that): follow it. */
  async function startRun(config) {
    const run = await api.start(config);
    state.watched = run.id;
    await follow().choose({ kind: "auto" });
    return run;
  }

  /** Reset: the same settings (or the bar's), a new seed; the old run stops if it still trains. */
  async function resetRun(config) {
    const old = app.controls.run;
    await startRun(config);
    if (old && ACTIVE.includes(old.status)) {
      await api.action(old.id, "stop").catch((err) => console.warn("reset: the old run goes on:", err.message));
    }
  }

  async function stepRun() {
    if (!state.runId) throw new Error("No run is being watched.");
    const result = await api.step(state.runId, 1);
    app.ui.step.update(result);
    follow().showRunObject(result.run);
  }

  async function runAction(name) {
    if (!state.runId) throw new Error("No run is being watched.");
    follow().showRunObject(await api.action(state.runId, name));
  }

  async function saveRun(name, overwrite) {
    if (!state.runId) throw new Error("No run is being watched.");
    await api.save(state.runId, name, overwrite);
    state.models = await api.models();
    follow().labels();
  }

  /** Delete an ended run; the page then follows the teacher again. */
  async function deleteRun(id) {
    await api.deleteRun(id);
    await follow().choose({ kind: "auto" });
  }

  /** Delete a saved model; if it was answering, the run being watched answers again. */
  async function deleteModel(name) {
    await api.deleteModel(name);
    state.models = await api.models();
    if (state.choice.kind === "model" && state.choice.name === name) await follow().choose({ kind: "auto" });
    follow().labels();
  }

  return { pickFromList, startRun, resetRun, stepRun, runAction, saveRun, deleteRun, deleteModel };
}
