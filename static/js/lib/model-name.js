// Names a run can be saved under, said in words (the server's rule, app/server/models.py NAME_RE),
// and how the page decides to ask before replacing a saved model. Pure: no DOM, no fetch.

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const NAME_RULE = "A model name is 1 to 40 characters: lower-case letters (a-z), digits, " +
  "'-' and '_', starting with a letter or a digit, e.g. \u201cmy-model-2\u201d.";

/** Return "" for a name the server accepts, else a sentence saying what is allowed. */
export function nameProblem(name) {
  if (NAME_RE.test(name)) return "";
  if (!name) return `Type a name first. ${NAME_RULE}`;
  return `\u201c${name}\u201d cannot be a model name. ${NAME_RULE}`;
}

/** Return "saved" (ask before replacing), "shipped" (refused: comes with the app) or "" (new). */
export function existingModel(models, name) {
  const found = models.find((m) => m.name === name);
  return { saved: "saved", shipped: "shipped" }[found?.kind] ?? "";
}
