// Which network the page watches, carried in the URL: /?model=NAME, /?run=ID, or nothing (the
// newest running run). Names are checked with the server's own rules so a crafted URL is ignored.

const MODEL_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const RUN_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Return {kind: "model", name} | {kind: "run", id} | {kind: "auto"} from a query string. */
export function readChoice(search) {
  const params = new URLSearchParams(search);
  const model = params.get("model");
  if (model && MODEL_RE.test(model)) return { kind: "model", name: model };
  const run = params.get("run");
  if (run && RUN_RE.test(run)) return { kind: "run", id: run };
  return { kind: "auto" };
}

/** Return the query string ("?..." or "") for a choice, keeping unrelated parameters of `search`. */
export function writeChoice(choice, search = "") {
  const params = new URLSearchParams(search);
  params.delete("model");
  params.delete("run");
  if (choice.kind === "model") params.set("model", choice.name);
  if (choice.kind === "run") params.set("run", choice.id);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Return true when two choices name the same network. */
export function sameChoice(a, b) {
  return a.kind === b.kind && a.name === b.name && a.id === b.id;
}
