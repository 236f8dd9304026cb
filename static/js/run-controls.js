// Run controls: the new-run form (every field of the server's run config), pause / resume /
// stop, the run picker, saving a run as a model, deleting an ended run, and the status line.

import { teacherToken } from "./api.js";
import { configFrom, statusParts, suggestedFor } from "./lib/run-config.js";

const ALLOWED = { running: ["pause", "stop"], paused: ["resume", "stop"], queued: ["stop"], interrupted: ["resume"] };
const ACTIVE = ["queued", "running", "paused"];   // the server refuses to delete these (stop first)

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
  /** handlers: {start(config), action(name), pick(id), save(name), remove(id)}, each async; errors are shown. */
  constructor(root, statusEl, handlers) {
    this.root = root;
    this.statusEl = statusEl;
    this.handlers = handlers;
    this.picker = root.querySelector("#run-picker");
    this.message = root.querySelector("#run-message");
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
      b.addEventListener("click", () => this.attempt(() => handlers.action(b.dataset.action)));
    }
    root.querySelector("#save-run").addEventListener("click", () => {
      const name = root.querySelector("#save-name").value.trim();
      this.attempt(() => handlers.save(name), `Saved as "${name}": pick it under "Answering".`);
    });
    this.deleteButton = root.querySelector("#delete-run");
    this.deleteButton.addEventListener("click", () => {
      const id = this.run?.id;
      // Deleting cannot be undone: ask first (the history and checkpoint go; saved models stay).
      if (!id || !window.confirm(`Delete run ${id} and its history for good? Models saved from it stay.`)) return;
      this.attempt(() => handlers.remove(id), `Run ${id} deleted.`);
    });
    const token = root.querySelector("#teacher-token");
    token.value = teacherToken.get();
    token.addEventListener("change", () => teacherToken.set(token.value.trim()));
    this.picker.addEventListener("change", () => this.attempt(() => handlers.pick(this.picker.value)));
  }

  /** spec: GET /api/run-config (or null: the form keeps its own bounds). */
  setSpec(spec) {
    this.spec = spec;
    if (spec) applySpec(this.root.querySelector("#run-form"), spec);
  }

  async attempt(fn, okText = "") {
    this.say("");
    try {
      await fn();
      this.say(okText, true);
    } catch (err) {
      this.say(err.message);
    }
  }

  say(text, ok = false) {
    this.message.textContent = text;
    this.message.classList.toggle("ok", ok);
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
