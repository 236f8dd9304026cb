// The run config on the page: the form's fields <-> the server's run config, checked against the
// server's own bounds (GET /api/run-config, docs/api.md), the learning rate each activation and cost
// suggest, the pace choices, and the words of the status line. Pure: no DOM, no fetch.

/** The statuses of a run that is not over: it may still train, and the server refuses to delete it. */
export const ACTIVE = ["queued", "running", "paused"];

const INTS = ["batch_size", "epochs", "seed", "train_subset", "validation_size"];
const FLOATS = ["learning_rate", "warmup", "momentum", "l2", "augment", "average"];
const fmt = new Intl.NumberFormat("en");
const words = (key) => key.replaceAll("_", " ");

/** Return the bounds of the hidden sizes: from the server's spec if it has them, else the long-standing ones. */
function hiddenBounds(spec) {
  const f = spec?.fields?.hidden ?? {};
  return { min: f.min ?? 1, max: f.max ?? 1024, layers: f.max_length ?? f.max_items ?? f.max_layers ?? 4 };
}

/** Return an error text if `value` falls outside the spec's bounds for `key`, else "". */
function outOfBounds(spec, key, value) {
  const f = spec?.fields?.[key];
  if (!f) return "";
  if (Array.isArray(f.choices) && f.choices.length && !f.choices.includes(value)) {
    return `${words(key)}: one of ${f.choices.join(", ")}`;
  }
  if (typeof value !== "number") return "";
  const ex = f.exclusive ?? {};
  const low = Number.isFinite(f.min) && (ex.min ? value <= f.min : value < f.min);
  const high = Number.isFinite(f.max) && (ex.max ? value >= f.max : value > f.max);
  if (low || high) {
    const from = Number.isFinite(f.min) ? `${ex.min ? "above" : "from"} ${f.min}` : "";
    const to = Number.isFinite(f.max) ? `${ex.max ? "below" : "up to"} ${f.max}` : "";
    return `${words(key)}: ${[from, to].filter(Boolean).join(" and ")} (got ${value})`;
  }
  return "";
}

/**
 * Return the run config (docs/api.md) from the new-run form's fields, read through get(name) ->
 * string | null; blank numbers are left out (the server's default). Throws an Error naming the
 * field a person has to fix (err.field = its name). spec: GET /api/run-config, or null.
 */
export function configFrom(get, spec = null) {
  const fail = (field, text) => { throw Object.assign(new Error(text), { field }); };
  const hb = hiddenBounds(spec);
  const hidden = String(get("hidden") || "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (!hidden.length || hidden.length > hb.layers || hidden.some((n) => !Number.isInteger(n) || n < hb.min || n > hb.max)) {
    fail("hidden", `Hidden layers: 1 to ${hb.layers} sizes of ${hb.min} to ${hb.max} neurons, separated by commas (e.g. 16,16)`);
  }
  const config = { hidden };
  for (const key of ["activation", "cost", "schedule", "label_mode"]) {
    const value = get(key);
    if (value === null || value === undefined) continue;
    const bad = outOfBounds(spec, key, value);
    if (bad) fail(key, bad);
    config[key] = value;
  }
  for (const key of [...INTS, ...FLOATS]) {
    const text = String(get(key) ?? "").trim();
    if (text === "") continue;   // blank: the server's default (train_subset blank = all examples)
    const value = Number(text);
    if (!Number.isFinite(value) || (INTS.includes(key) && !Number.isInteger(value))) {
      fail(key, `${words(key)}: "${text}" is not a ${INTS.includes(key) ? "whole " : ""}number`);
    }
    const bad = outOfBounds(spec, key, value);
    if (bad) fail(key, bad);
    config[key] = value;
  }
  const pace = String(get("pace") ?? "").trim();
  if (pace) config.pace = pace === "full" || pace === "classroom" ? pace : Number(pace);
  if (Number.isNaN(config.pace)) fail("pace", `pace: "full", "classroom" or examples per second (got "${pace}")`);
  const name = String(get("name") || "").trim();
  if (name) config.name = name;
  return config;
}

/** Return the settings the server suggests for this activation and cost (e.g. {learning_rate: 0.1}), or {}. */
export function suggestedFor(spec, activation, cost) {
  return { ...(spec?.suggested?.[`${activation}/${cost}`] ?? {}) };
}

/** Return the default value of a field from the spec, or `fallback`. */
export function defaultOf(spec, key, fallback) {
  const d = spec?.fields?.[key]?.default;
  return d === undefined || d === null ? fallback : d;
}

/**
 * Return the pace choices for a run with this batch size: [{value, label}], value "classroom",
 * "full" or examples per second, from one mini-batch a second up, within the server's bounds.
 */
export function paceChoices(batchSize, spec = null) {
  const f = spec?.fields?.pace ?? {};
  const batch = Math.max(1, batchSize || 10);
  const min = Math.max(batch, f.min ?? 0), max = f.max ?? 1e6;
  const out = [{ value: "classroom", label: "classroom (slow, then faster)" }];
  for (const perSecond of [1, 3, 10, 30, 100, 1000]) {
    const value = batch * perSecond;
    if (value < min || value > max) continue;
    const label = perSecond === 1 ? "slow motion: 1 batch a second" : `${fmt.format(perSecond)} batches a second`;
    out.push({ value, label });
  }
  out.push({ value: "full", label: "full speed" });
  return out;
}

/** Return the pace in words ("full speed", "classroom", "50 examples/s"). */
export function paceWords(pace) {
  if (pace === "full" || pace === null || pace === undefined) return "full speed";
  if (pace === "classroom") return "classroom pace";
  return `${fmt.format(Number(pace))} examples/s`;
}

/** Return [state, [text parts]] for the status line of a run (and its latest metrics). */
export function statusParts(run, metrics) {
  if (!run) return ["no run", []];
  const m = metrics ?? run.metrics ?? {};
  const p = run.progress ?? {};
  const parts = [run.name && run.name !== run.id ? `${run.name} (${run.id})` : `run ${run.id}`];
  if (Number.isFinite(p.epoch)) parts.push(`epoch ${p.epoch.toFixed(2)} / ${p.epochs}`);
  if (Number.isFinite(p.examples_seen)) parts.push(`${fmt.format(p.examples_seen)} examples seen`);
  if (run.status === "running" && Number.isFinite(m.examples_per_second)) parts.push(`${fmt.format(Math.round(m.examples_per_second))} examples/s`);
  if (Number.isFinite(m.test_accuracy)) parts.push(`test accuracy ${(100 * m.test_accuracy).toFixed(1)}%`);
  if (run.error) parts.push(run.error);
  return [run.status, parts];
}
