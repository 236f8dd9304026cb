// FastAPI's validation messages, said the way a class would say them.
const PHRASES = [
  [/^Input should be less than or equal to (.+)$/, "can be at most $1"],
  [/^Input should be greater than or equal to (.+)$/, "must be at least $1"],
  [/^Input should be less than (.+)$/, "must be below $1"],
  [/^Input should be greater than (.+)$/, "must be above $1"],
  [/^Input should be a valid (number|integer).*$/, "must be a number"],
  [/^Field required$/, "is missing"],
];

/** Return the server's error `detail` (a sentence, or FastAPI's list of problems) in plain words. */
export function plainWords(detail) {
  if (!Array.isArray(detail)) return detail ? String(detail) : "";
  return detail.map((d) => {
    const field = String(d.loc?.at(-1) ?? "value").replaceAll("_", " ");
    const rule = PHRASES.find(([re]) => re.test(d.msg));
    const said = rule ? d.msg.replace(rule[0], rule[1]) : d.msg.charAt(0).toLowerCase() + d.msg.slice(1);
    return `The ${field} ${said}.`;
  }).join(" ");
}
