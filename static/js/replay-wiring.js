// Replay: the timeline's list of snapshots, and scrubbing to one (the network, the weight maps and
// the drawing's answer as they were then). `app` is main.js's bag of state and widgets.
import { DEFAULT_NEURONS } from "./heatmaps.js";
import { notify } from "./notice.js";

export function wireReplay(app) {
  const { state, ui, api } = app;

  async function refreshSnapshots() {
    if (!state.runId) return app.timeline.set([]);
    try {
      const out = await api.snapshots(state.runId);
      if (out.id === undefined || out.id === state.runId) app.timeline.set(out.snapshots);
    } catch (err) {
      if (err.status === 404) app.timeline.set([]);   // a server without snapshots (or a run without any): no replay
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
    app.following.labels();
    if (state.pixels) app.drawing.sendDrawing(state.pixels);
  }

  return { refreshSnapshots, scrub };
}
