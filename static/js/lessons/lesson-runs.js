// The runs a lesson starts and watches (lessons 6 and 7): refreshed now and every POLL_MS, refreshed
// afresh by watch() when the settings change, stopped together. `refresh` reads the runs and draws
// them; `say` shows an error (or clears it with null).
import { ACTIVE } from "../lib/run-config.js";
import { postJSON } from "./http.js";

const POLL_MS = 2000;

export function lessonRuns(refresh, say) {
  let timer = null;

  async function poll() {
    try {
      await refresh();
      // the refreshes done, counted on the page itself, where a test (or a person) can see them go on
      document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
      say(null);
    } catch (err) { say(err); }
  }

  function watch() {
    clearInterval(timer);
    poll();
    timer = setInterval(poll, POLL_MS);
  }

  async function stopAll(runs) {
    for (const run of runs) {
      if (run && ACTIVE.includes(run.status)) await postJSON(`/api/runs/${run.id}/stop`).catch(say);
    }
    poll();
  }

  return { poll, watch, stopAll };
}
