// A lesson's settings live in its URL (?lr=0.3&x0=-2 ...), so a teacher can prepare a lesson and
// share the link. Every value is checked against a spec: a crafted or stale URL falls back to the
// default instead of breaking the page.

/**
 * spec: {name: {type: "number", min, max, default, integer?} | {type: "enum", values, default}
 *        | {type: "name", pattern, default}}
 * Return {name: value} read from a query string, each value valid or its default.
 */
export function readSettings(search, spec) {
  const params = new URLSearchParams(search);
  const out = {};
  for (const [name, rule] of Object.entries(spec)) {
    out[name] = parseValue(params.get(name), rule);
  }
  return out;
}

function parseValue(text, rule) {
  if (text === null || text === "") return rule.default;
  if (rule.type === "number") {
    const v = Number(text);
    if (!Number.isFinite(v) || v < rule.min || v > rule.max) return rule.default;
    if (rule.integer && !Number.isInteger(v)) return rule.default;
    return v;
  }
  if (rule.type === "enum") return rule.values.includes(text) ? text : rule.default;
  if (rule.type === "name") return rule.pattern.test(text) ? text : rule.default;
  return rule.default;
}

/**
 * Return the query string ("?..." or "") for values, leaving out defaults (short links) and
 * keeping parameters of `search` that the spec does not own.
 */
export function writeSettings(values, spec, search = "") {
  const params = new URLSearchParams(search);
  for (const [name, rule] of Object.entries(spec)) {
    const v = values[name];
    if (v === undefined || v === null || v === rule.default) params.delete(name);
    else params.set(name, String(v));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Replace the page URL's query with these values (no new history entry per slider move). */
export function saveSettings(values, spec) {
  const query = writeSettings(values, spec, window.location.search);
  window.history.replaceState(null, "", `${window.location.pathname}${query}`);
}
