// Run controls: the new-run form (every field of the server's run config), pause / resume /
// stop, the run picker, saving a run as a model, and the status line.

const INTS = ["batch_size", "epochs", "seed", "train_subset", "validation_size"];
const FLOATS = ["learning_rate", "warmup", "momentum", "l2", "augment"];
const ALLOWED = { running: ["pause", "stop"], paused: ["resume", "stop"], queued: ["stop"] };
const fmt = new Intl.NumberFormat("en");

/** Return the run config of the form (docs/api.md), or throw an Error naming the bad field. */
export function readConfig(form) {
  const f = new FormData(form);
  const hidden = String(f.get("hidden") || "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (!hidden.length || hidden.length > 4 || hidden.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) {
    throw new Error("Hidden layers: 1 to 4 sizes of 1 to 1024 neurons, separated by commas (e.g. 16,16)");
  }
  const config = { hidden };
  for (const key of ["activation", "cost", "schedule", "label_mode"]) config[key] = f.get(key);
  for (const key of [...INTS, ...FLOATS]) {
    const text = String(f.get(key) ?? "").trim();
    if (text === "") continue;   // blank: the server's default (train_subset blank = all examples)
    const value = Number(text);
    if (!Number.isFinite(value) || (INTS.includes(key) && !Number.isInteger(value))) {
      throw new Error(`${key.replace("_", " ")}: "${text}" is not a ${INTS.includes(key) ? "whole " : ""}number`);
    }
    config[key] = value;
  }
  const name = String(f.get("name") || "").trim();
  if (name) config.name = name;
  return config;
}

/** Return the status line's HTML-free parts for a run (and its latest metrics). */
export function statusParts(run, metrics) {
  if (!run) return ["no run", ""];
  const m = metrics ?? run.metrics ?? {};
  const p = run.progress ?? {};
  const parts = [`${run.name || run.id} (${run.id})`];
  if (Number.isFinite(p.epoch)) parts.push(`epoch ${p.epoch.toFixed(2)} / ${p.epochs}`);
  if (Number.isFinite(p.examples_seen)) parts.push(`${fmt.format(p.examples_seen)} examples seen`);
  if (Number.isFinite(m.examples_per_second)) parts.push(`${fmt.format(Math.round(m.examples_per_second))} examples/s`);
  if (Number.isFinite(m.test_accuracy)) parts.push(`test accuracy ${(100 * m.test_accuracy).toFixed(1)}%`);
  if (run.error) parts.push(run.error);
  return [run.status, parts.join(" · ")];
}

export class RunControls {
  /** handlers: {start(config), action(name), pick(id), save(name)}, each async; errors are shown. */
  constructor(root, statusEl, handlers) {
    this.root = root;
    this.statusEl = statusEl;
    this.handlers = handlers;
    this.picker = root.querySelector("#run-picker");
    this.message = root.querySelector("#run-message");
    this.run = null;
    root.querySelector("#run-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.attempt(() => handlers.start(readConfig(e.target)), "Run started.");
    });
    for (const b of root.querySelectorAll("[data-action]")) {
      b.addEventListener("click", () => this.attempt(() => handlers.action(b.dataset.action)));
    }
    root.querySelector("#save-run").addEventListener("click", () => {
      const name = root.querySelector("#save-name").value.trim();
      this.attempt(() => handlers.save(name), `Saved as "${name}": pick it under "Answering".`);
    });
    this.picker.addEventListener("change", () => this.attempt(() => handlers.pick(this.picker.value)));
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
    const options = runs.map((r) => {
      const o = new Option(`${r.id} · ${r.name || "run"} · ${r.status}`, r.id);
      o.selected = r.id === watched;
      return o;
    });
    this.picker.replaceChildren(...options);
  }

  /** data: {run, metrics}: the watched run (status message or REST) and/or its newest metrics point. */
  update({ run, metrics }) {
    if (run) this.run = run;
    if (metrics && this.run) {
      this.run.progress = { ...this.run.progress, epoch: metrics.epoch, step: metrics.step,
        examples_seen: metrics.examples_seen };
      this.run.metrics = metrics;
    }
    const [state, text] = statusParts(this.run, metrics);
    this.statusEl.innerHTML = "";
    const s = document.createElement("span");
    s.className = `state ${state}`;
    s.textContent = state;
    this.statusEl.append(s, ` ${text}`);
    const allowed = ALLOWED[this.run?.status] ?? [];
    for (const b of this.root.querySelectorAll("[data-action]")) b.disabled = !allowed.includes(b.dataset.action);
  }
}
