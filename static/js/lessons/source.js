// Which network a lesson uses: a shipped or saved model, the live weights of a run, or a freshly
// initialised network ("utter trash"). The choice lives in the URL as ?model=, ?run= or ?fresh=.
import { api } from "../api.js";

const MODEL_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const RUN_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Return {model} | {run} | {fresh} | {} (server's default) from a query string. */
export function readSource(search) {
  const p = new URLSearchParams(search);
  const model = p.get("model"), run = p.get("run"), fresh = p.get("fresh");
  if (model && MODEL_RE.test(model)) return { model };
  if (run && RUN_RE.test(run)) return { run };
  if (fresh !== null && /^\d{1,9}$/.test(fresh)) return { fresh: Number(fresh) };
  return {};
}

/** Return the <select> value for a source ("model:best", "run:r1", "fresh:0" or ""). */
export function sourceKey(src) {
  if (src.model) return `model:${src.model}`;
  if (src.run) return `run:${src.run}`;
  if (src.fresh !== undefined) return `fresh:${src.fresh}`;
  return "";
}

export function keyToSource(key) {
  const [kind, value] = key.split(/:(.*)/s);
  if (kind === "model") return { model: value };
  if (kind === "run") return { run: value };
  if (kind === "fresh") return { fresh: Number(value) };
  return {};
}

/** Return a line naming the network a lesson answered with (the server's `model` info). */
export function describeNetwork(m) {
  const shape = `${m.sizes.join("-")}, ${m.activation}`;
  if (m.kind === "run") return `Using the live weights of run ${m.name} (${shape}) at epoch ${m.epoch}.`;
  if (m.kind === "fresh") return `Using a fresh, untrained network (${shape}).`;
  const acc = m.test_accuracy ? `, ${(100 * m.test_accuracy).toFixed(1)}% on test` : "";
  return `Using model ${m.name} (${shape}${acc}).`;
}

export class SourcePicker {
  /** select: the <select>; onChange(source) runs when the teacher picks another network. */
  constructor(select, onChange) {
    this.select = select;
    this.onChange = onChange;
    this.source = readSource(window.location.search);
    select.addEventListener("change", () => this.pick(keyToSource(select.value)));
  }

  pick(source) {
    this.source = source;
    const p = new URLSearchParams(window.location.search);
    for (const k of ["model", "run", "fresh"]) p.delete(k);
    for (const [k, v] of Object.entries(source)) p.set(k, String(v));
    const q = p.toString();
    window.history.replaceState(null, "", `${window.location.pathname}${q ? `?${q}` : ""}`);
    this.onChange(source);
  }

  /** Say under the picker which network answered (info: the `model` of a lesson's answer). */
  shown(info) {
    const note = document.querySelector("#source-note");
    if (note && info?.sizes) note.textContent = describeNetwork(info);
  }

  /** Fill the list from the server: models, runs with weights, fresh networks. */
  async load() {
    const [models, runs] = await Promise.all([api.models().catch(() => []), api.runs().catch(() => [])]);
    // The video's 784-16-16-10 first; the wide `best` model second, one choice away.
    const options = [["", "the video's 784-16-16-10 (the studio's run, else model default)"]];
    models.sort((a, b) => (b.name === "best") - (a.name === "best"));
    for (const m of models) options.push([`model:${m.name}`, `model ${m.name}${m.test_accuracy ? ` (${(100 * m.test_accuracy).toFixed(1)}%)` : ""}`]);
    for (const r of runs) options.push([`run:${r.id}`, `run ${r.name} (${r.status}, live weights)`]);
    for (const seed of [0, 1, 2]) options.push([`fresh:${seed}`, `fresh, untrained (seed ${seed})`]);
    const current = sourceKey(this.source);
    if (current && !options.some(([v]) => v === current)) options.push([current, current.replace(":", " ")]);
    this.select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
    this.select.value = current;
  }
}
