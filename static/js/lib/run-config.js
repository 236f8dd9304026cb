// The new-run form <-> the server's run config, and the words of the status line. Pure: no DOM.

const INTS = ["batch_size", "epochs", "seed", "train_subset", "validation_size"];
const FLOATS = ["learning_rate", "warmup", "momentum", "l2", "augment", "average"];
const fmt = new Intl.NumberFormat("en");

/**
 * Return the run config (docs/api.md) from the new-run form's fields, read through get(name) ->
 * string | null; blank numbers are left out (the server's default). Throws an Error naming the
 * field a person has to fix.
 */
export function configFrom(get) {
  const hidden = String(get("hidden") || "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (!hidden.length || hidden.length > 4 || hidden.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) {
    throw new Error("Hidden layers: 1 to 4 sizes of 1 to 1024 neurons, separated by commas (e.g. 16,16)");
  }
  const config = { hidden };
  for (const key of ["activation", "cost", "schedule", "label_mode"]) config[key] = get(key);
  for (const key of [...INTS, ...FLOATS]) {
    const text = String(get(key) ?? "").trim();
    if (text === "") continue;   // blank: the server's default (train_subset blank = all examples)
    const value = Number(text);
    if (!Number.isFinite(value) || (INTS.includes(key) && !Number.isInteger(value))) {
      throw new Error(`${key.replaceAll("_", " ")}: "${text}" is not a ${INTS.includes(key) ? "whole " : ""}number`);
    }
    config[key] = value;
  }
  const name = String(get("name") || "").trim();
  if (name) config.name = name;
  return config;
}

/** Return [state, [text parts]] for the status line of a run (and its latest metrics). */
export function statusParts(run, metrics) {
  if (!run) return ["no run", []];
  const m = metrics ?? run.metrics ?? {};
  const p = run.progress ?? {};
  const parts = [run.name && run.name !== run.id ? `${run.name} (${run.id})` : `run ${run.id}`];
  if (Number.isFinite(p.epoch)) parts.push(`epoch ${p.epoch.toFixed(2)} / ${p.epochs}`);
  if (Number.isFinite(p.examples_seen)) parts.push(`${fmt.format(p.examples_seen)} examples seen`);
  if (Number.isFinite(m.examples_per_second)) parts.push(`${fmt.format(Math.round(m.examples_per_second))} examples/s`);
  if (Number.isFinite(m.test_accuracy)) parts.push(`test accuracy ${(100 * m.test_accuracy).toFixed(1)}%`);
  if (run.error) parts.push(run.error);
  return [run.status, parts];
}
