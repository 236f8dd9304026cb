// Run controls: the new-run form (every field of the server's run config), pause / resume /
// stop, the run picker, saving a run as a model, deleting an ended run, and the status line.

import { teacherToken } from "./api.js";
import { existingModel, nameProblem } from "./lib/model-name.js";
import { ACTIVE, configFrom, statusParts, suggestedFor } from "./lib/run-config.js";

const ALLOWED = { running: ["pause", "stop"], paused: ["resume", "stop"], queued: ["stop"], interrupted: ["resume"] };

/** Return the run config of the form (docs/api.md), or throw an Error naming the bad field. */
export function readConfig(form, spec = null) {
  const data = new FormData(form);
  return configFrom((key) => data.get(key), spec);
}

/** Give the form the server's bounds, choices and defaults (GET /api/run-config), so it never offers what is refused. */
export function applySpec(form, spec) {
  for (const [name, f] of Object.entries(spec?.fields ?? {})) {
    const el = form.elements.namedItem(name);
    if (!el || !("value" in el)) continue;
    if (el.tagName === "SELECT" && Array.isArray(f.choices) && f.choices.length) {
      const labels = new Map([...el.options].map((o) => [o.value, o.textContent]));
      el.replaceChildren(...f.choices.map((c) => new Option(labels.get(String(c)) ?? String(c).replaceAll("_", " "), String(c))));
    }
    if (el.type === "number") {
      if (Number.isFinite(f.min)) el.min = String(f.min);
      if (Number.isFinite(f.max)) el.max = String(f.max);
    }
    if (f.help) el.closest("label")?.setAttribute("title", f.help);
    const d = f.default;
    if (d !== undefined && d !== null) el.value = Array.isArray(d) ? d.join(",") : String(d);
  }
}

export class RunControls {
  /** handlers: {start(config), action(name), pick(id), save(name, overwrite), remove(id)}, each async; errors
   * are shown next to the button that caused them. */
  constructor(root, statusEl, handlers) {
    this.root = root;
    this.statusEl = statusEl;
    this.handlers = handlers;
    this.picker = root.querySelector("#run-picker");
    this.message = root.querySelector("#form-message");   // under the form's Start button
    this.rowMessage = root.querySelector("#run-message");  // between the run row and the saved-model row
    this.models = [];                                          // GET /api/models, to ask before replacing one
    this.run = null;
    this.spec = null;
    const form = root.querySelector("#run-form");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.attempt(() => handlers.start(readConfig(e.target, this.spec)), "Run started.");
    });
    // The learning rate follows the chosen activation and cost (the server's suggestion).
    for (const name of ["activation", "cost"]) {
      form.elements.namedItem(name).addEventListener("change", () => {
        const s = suggestedFor(this.spec, form.elements.namedItem("activation").value, form.elements.namedItem("cost").value);
        if (Number.isFinite(s.learning_rate)) form.elements.namedItem("learning_rate").value = String(s.learning_rate);
      });
    }
    for (const b of root.querySelectorAll("[data-action]")) {
      b.addEventListener("click", () => this.attempt(() => handlers.action(b.dataset.action), "", this.rowMessage));
    }
    root.querySelector("#save-run").addEventListener("click", () => this.save(root.querySelector("#save-name").value.trim()));
    this.deleteButton = root.querySelector("#delete-run");
    this.deleteButton.addEventListener("click", () => {
      const id = this.run?.id;
      // Deleting cannot be undone: ask first (the history and checkpoint go; saved models stay).
      if (!id || !window.confirm(`Delete run ${id} and its history for good? Models saved from it stay.`)) return;
      this.attempt(() => handlers.remove(id), `Run ${id} deleted.`, this.rowMessage);
    });
    const token = root.querySelector("#teacher-token");
    token.value = teacherToken.get();
    token.addEventListener("change", () => teacherToken.set(token.value.trim()));
    this.picker.addEventListener("change", () => this.attempt(() => handlers.pick(this.picker.value), "", this.rowMessage));
  }

  /** spec: GET /api/run-config (or null: the form keeps its own bounds). */
  setSpec(spec) {
    this.spec = spec;
    if (spec) applySpec(this.root.querySelector("#run-form"), spec);
  }

  /** Run fn and say how it went in `where` (the message beside the control that was used). */
  async attempt(fn, okText = "", where = this.message) {
    this.say("", false, where);
    try {
      await fn();
      this.say(okText, true, where);
    } catch (err) {
      this.say(err.message, false, where);
    }
  }

  say(text, ok = false, where = this.message) {
    for (const el of [this.message, this.rowMessage]) if (el !== where) el.textContent = "";
    where.textContent = text;
    where.classList.toggle("ok", ok);
  }

  /** Save the watched run as a model: a name the server would refuse is explained in words, and a
   * saved model of that name is replaced only once the teacher said so (the server asks the same). */
  async save(name) {
    const where = this.rowMessage;
    const problem = nameProblem(name);
    if (problem) return this.say(problem, false, where);
    if (existingModel(this.models, name) === "shipped") {
      return this.say(`\u201c${name}\u201d comes with the app and cannot be replaced: choose another name.`, false, where);
    }
    const ask = () => window.confirm(`A model named \u201c${name}\u201d is already saved. ` +
      "Replace it with this run's weights as they are now?");
    const kept = `Not saved: the model \u201c${name}\u201d is kept as it was (choose another name to keep both).`;
    let overwrite = existingModel(this.models, name) === "saved";
    if (overwrite && !ask()) return this.say(kept, false, where);
    const done = `Saved as \u201c${name}\u201d: pick it under \u201cAnswering\u201d.`;
    await this.attempt(async () => {
      try {
        await this.handlers.save(name, overwrite);
      } catch (err) {
        // Saved meanwhile from another page: the server refused (409) rather than replace it unasked.
        if (err.status !== 409 || overwrite || !/already saved/.test(err.message)) throw err;
        if (!ask()) throw new Error(kept);
        overwrite = true;
        await this.handlers.save(name, true);
      }
    }, done, where);
  }

  /** runs: GET /api/runs; watched: the id being watched. */
  setRuns(runs, watched) {
    const key = JSON.stringify([watched, runs.map((r) => [r.id, r.name, r.status])]);
    if (key === this.runsKey) return;   // rebuilding the options would close an open drop-down
    this.runsKey = key;
    const options = runs.map((r) => {
      const o = new Option(`${r.id} · ${r.name || "run"} · ${r.status}`, r.id);
      o.selected = r.id === watched;
      return o;
    });
    this.picker.replaceChildren(...options);
  }

  /** data: {run, metrics}: the watched run (status message or REST) and/or its newest metrics point. */
  update({ run, metrics }) {
    if (run !== undefined) this.run = run;   // null: no run is watched (e.g. the last one was deleted)
    if (metrics && this.run) {
      this.run.progress = { ...this.run.progress, epoch: metrics.epoch, step: metrics.step,
        examples_seen: metrics.examples_seen };
      this.run.metrics = metrics;
    }
    const [state, parts] = statusParts(this.run, metrics);
    const span = (cls, text) => Object.assign(document.createElement("span"), { className: cls, textContent: text });
    // One span per figure, kept whole, so a narrow screen wraps between figures, not inside one.
    const figures = parts.flatMap((p, k) => [k ? " · " : " ", span("part", p)]);
    this.statusEl.replaceChildren(span(`state ${state}`, state), ...figures);
    const allowed = ALLOWED[this.run?.status] ?? [];
    for (const b of this.root.querySelectorAll("[data-action]")) b.disabled = !allowed.includes(b.dataset.action);
    this.deleteButton.disabled = !this.run || ACTIVE.includes(this.run.status);
  }
}
