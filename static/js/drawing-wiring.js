// Drawing -> answers: the current drawing goes to the live channel (the watched run answers there)
// and to predict for a saved model or a replayed snapshot; each answer goes to the bars and the
// network picture it belongs to. `app` is main.js's bag of state and widgets (docs/api.md).
import { strokesToPixels } from "./lib/digitize.js";
import { serial, throttle } from "./lib/throttle.js";

const SEND_MS = 80;   // drawings go out at most ~12 times a second

export function wireDrawing(app) {
  const { state, ui, live, api } = app;

  /** Return where model predictions go: {main, compare} each a model name or null (= the live run). */
  function roles() {
    const names = state.models.map((m) => m.name);
    const best = names.includes("best") ? "best" : names[0] ?? null;
    if (state.choice.kind === "model") return { main: state.choice.name, compare: null };
    if (!state.runId) return { main: best, compare: null };   // no run on the server: a model answers
    return { main: null, compare: best };
  }

  /** target: {model} or {run, snapshot}: ask predict, and show the answer where it belongs. */
  const predict = serial(async (target, pixels) => {
    const out = await api.predict(target, pixels);
    if (!state.pixels) return;                  // cleared while the request was out
    const answer = { digit: out.digit, activations: out.activations, note: out.note };
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
    document.querySelector("#draw-hint").hidden = strokes.length > 0;
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
    const answer = { digit: msg.digit, activations: msg.layers.at(-1), note: msg.note };
    if (roles().main === null) {
      if (state.replay) return;                 // the replayed snapshot answers (predict), not the live one
      ui.main.update(answer);
      ui.network.setActivations(msg.layers);
    } else {
      ui.compare.update(answer);
    }
  }

  return { roles, sendDrawing, onDraw, onActivations };
}
