// Which run a page shows: the teacher leads. Pure: no DOM, no fetch (tested under node).
import { newestRun } from "../api.js";

/**
 * Return {id, lost} for a page whose viewer chose `choice` ({kind: "auto" | "run" | "model"}), given
 * the server's runs (newest first) and the studio's watched run (`watched`: an id, null for none, or
 * undefined when the server has no studio to ask). A run the viewer named wins while it exists
 * (lost: true once it is gone); otherwise the teacher's watched run. Only a server without a studio
 * falls back to the newest run: a lesson's run, however new, never takes over.
 */
export function runToWatch(choice, runs, watched) {
  const named = choice.kind === "run" ? runs.find((r) => r.id === choice.id) : null;
  const teacher = watched ? runs.find((r) => r.id === watched) : null;
  const fallback = watched === undefined ? newestRun(runs) : null;
  return { id: (named ?? teacher ?? fallback)?.id ?? null, lost: choice.kind === "run" && !named };
}

/** Return true if the page should offer "Follow the teacher": the viewer picked a run, the teacher shows another. */
export function offerFollow(choice, watched, runId) {
  return choice.kind !== "auto" && Boolean(watched) && watched !== runId;
}
