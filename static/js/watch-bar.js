// The main screen's controls, the few a teacher changes in class (in the spirit of TensorFlow
// Playground): play/pause, step, reset, pace, and the settings of the next run (learning rate,
// activation, hidden layers with +/- neurons, cost). The full form stays in the Runs panel.
// Bounds come from the server (GET /api/run-config); an error shows beside the control that caused it.
import { ACTIVE, configFrom, defaultOf, paceChoices, suggestedFor } from "./lib/run-config.js";


/** Return the form field a server refusal names (FastAPI 422 `loc`), or null. */
export function refusedField(err) {
  const loc = Array.isArray(err?.detail) ? err.detail[0]?.loc : null;
  return Array.isArray(loc) ? loc.find((p) => typeof p === "string" && p !== "body") ?? null : null;
}

export class WatchBar {
  /** handlers: {playPause(), step(), reset(config), pace(value)}, each async; errors are shown by the control. */
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers;
    this.spec = null;
    this.run = null;
    this.hidden = [16, 16];
    this.edited = false;
    const $ = (s) => root.querySelector(s);
    this.el = { play: $("#play-pause"), step: $("#step-run"), reset: $("#reset-run"), pace: $("#pace"),
      full: $("#full-speed"), lr: $("#bar-lr"), activation: $("#bar-activation"), cost: $("#bar-cost"),
      layers: $("#bar-hidden") };
    this.el.play.addEventListener("click", () => this.attempt("play", () => handlers.playPause()));
    this.el.step.addEventListener("click", () => this.attempt("step", () => handlers.step()));
    this.el.reset.addEventListener("click", () => this.attempt("reset", () => handlers.reset(this.config())));
    this.el.pace.addEventListener("change", () => this.attempt("pace", () => handlers.pace(this.paceValue())));
    this.el.full.addEventListener("click", () => this.attempt("pace", () => handlers.pace("full")));
    for (const key of ["activation", "cost"]) {
      this.el[key].addEventListener("change", () => { this.follow(); this.touch(); });
    }
    this.el.lr.addEventListener("input", () => this.touch());
    this.el.layers.addEventListener("click", (e) => this.layerClick(e));
    this.drawLayers();
  }

  /** spec: GET /api/run-config: the choices and bounds the server accepts. */
  setSpec(spec) {
    this.spec = spec;
    const f = spec?.fields ?? {};
    for (const key of ["activation", "cost"]) {
      const choices = f[key]?.choices;
      if (Array.isArray(choices) && choices.length) {
        const current = this.el[key].value;
        this.el[key].replaceChildren(...choices.map((c) => new Option(c.replaceAll("_", " "), c)));
        if (choices.includes(current)) this.el[key].value = current;
      }
    }
    const lr = f.learning_rate;
    if (lr) {
      if (Number.isFinite(lr.min)) this.el.lr.min = String(lr.min);
      if (Number.isFinite(lr.max)) this.el.lr.max = String(lr.max);
    }
    this.drawPace();
    this.drawLayers();
  }

  /** run: the watched run object (or null): the buttons' states and, unless edited, the settings shown. */
  update(run) {
    const changedRun = run?.id !== this.run?.id;
    this.run = run;
    const status = run?.status;
    const running = status === "running" || status === "queued";
    this.el.play.textContent = running ? "❚❚ Pause" : "▶ Play";
    this.el.play.setAttribute("aria-pressed", String(running));
    this.el.play.disabled = !run || !(ACTIVE.includes(status) || status === "interrupted");
    this.el.step.disabled = status !== "paused";
    this.el.step.title = status === "paused" ? "Take one mini-batch and show what it changed" : "Pause the run first";
    this.el.reset.disabled = !run;
    this.el.pace.disabled = this.el.full.disabled = !run || !ACTIVE.includes(status);
    if (changedRun) this.edited = false;
    if (run && !this.edited) {
      const c = run.config ?? {};
      if (Array.isArray(c.hidden)) this.hidden = [...c.hidden];
      if (c.activation) this.el.activation.value = c.activation;
      if (c.cost) this.el.cost.value = c.cost;
      if (Number.isFinite(c.learning_rate)) this.el.lr.value = String(c.learning_rate);
      this.drawLayers();
    }
    this.drawPace();
    this.el.reset.textContent = this.edited ? "↻ Restart with these settings" : "↻ Reset";
  }

  /** Return the pace chosen in #pace ("full", "classroom" or examples per second). */
  paceValue() {
    const v = this.el.pace.value;
    return v === "full" || v === "classroom" ? v : Number(v);
  }

  drawPace() {
    const batch = this.run?.config?.batch_size ?? defaultOf(this.spec, "batch_size", 10);
    const choices = paceChoices(batch, this.spec);
    const pace = this.run?.pace ?? this.run?.config?.pace ?? "full";
    if (typeof pace === "number" && !choices.some((c) => c.value === pace)) {
      choices.splice(-1, 0, { value: pace, label: `${pace.toLocaleString("en")} examples a second` });
    }
    const key = JSON.stringify(choices);
    if (key !== this.paceKey) {
      this.paceKey = key;
      this.el.pace.replaceChildren(...choices.map((c) => new Option(c.label, String(c.value))));
    }
    this.el.pace.value = String(pace);
  }

  /** The hidden layers as rows of [-] n [+], and buttons to add or remove a layer. */
  drawLayers() {
    const f = this.spec?.fields?.hidden ?? {};
    const max = f.max ?? 1024, min = f.min ?? 1, layers = f.max_length ?? f.max_items ?? 4;
    const rows = this.hidden.map((n, k) => `<span class="layer-size" data-layer="${k}">` +
      `<button type="button" data-do="less" aria-label="one neuron fewer in layer ${k + 1}" ${n <= min ? "disabled" : ""}>−</button>` +
      `<output aria-label="neurons in hidden layer ${k + 1}">${n}</output>` +
      `<button type="button" data-do="more" aria-label="one neuron more in layer ${k + 1}" ${n >= max ? "disabled" : ""}>+</button></span>`);
    this.el.layers.innerHTML = `<span class="bar-label">Hidden layers</span>${rows.join("")}` +
      `<button type="button" data-do="add" ${this.hidden.length >= layers ? "disabled" : ""} title="add a layer">+ layer</button>` +
      `<button type="button" data-do="drop" ${this.hidden.length <= 1 ? "disabled" : ""} title="remove the last layer">− layer</button>`;
  }

  layerClick(e) {
    const button = e.target.closest("button[data-do]");
    if (!button) return;
    const k = Number(button.closest("[data-layer]")?.dataset.layer);
    const act = button.dataset.do;
    if (act === "more") this.hidden[k] += 1;
    if (act === "less") this.hidden[k] -= 1;
    if (act === "add") this.hidden.push(this.hidden.at(-1) ?? 16);
    if (act === "drop") this.hidden.pop();
    this.touch();
    this.drawLayers();
  }

  /** The learning rate follows the chosen activation and cost (the server's suggestion). */
  follow() {
    const s = suggestedFor(this.spec, this.el.activation.value, this.el.cost.value);
    if (Number.isFinite(s.learning_rate)) this.el.lr.value = String(s.learning_rate);
  }

  touch() {
    this.say(null);
    this.edited = true;
    this.el.reset.textContent = "↻ Restart with these settings";
  }

  /** Return the next run's config: the watched run's, with the bar's settings and a new seed. Throws naming the field. */
  config() {
    const base = { ...(this.run?.config ?? {}) };
    const get = (k) => ({ hidden: this.hidden.join(","), activation: this.el.activation.value, cost: this.el.cost.value,
      learning_rate: this.el.lr.value })[k] ?? null;
    const bar = configFrom(get, this.spec);
    const seed = Math.floor(Math.random() * 2 ** 31);
    return { ...base, ...bar, seed, name: base.name ? `${String(base.name).replace(/ \(reset.*$/, "")} (reset)`.slice(0, 80) : undefined };
  }

  /** Run fn; on failure show the message beside the control that caused it. */
  async attempt(control, fn) {
    this.say(null);
    try {
      await fn();
      this.edited = control === "reset" ? false : this.edited;
    } catch (err) {
      const field = err.field ?? refusedField(err);
      const where = { learning_rate: "lr", activation: "activation", cost: "cost", hidden: "layers", pace: "pace" }[field] ?? control;
      this.say(where, err.message);
    }
  }

  /** Show text in the error slot of `where` (null: clear every slot). */
  say(where, text = "") {
    for (const slot of this.root.querySelectorAll(".field-error")) {
      if (where === null || slot.dataset.for === where) {
        slot.textContent = where === null ? "" : text;
        slot.hidden = !slot.textContent;
      }
    }
  }
}
