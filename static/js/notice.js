// The notice under the title: a sentence for a while, for things the page decided on its own
// (a run that is gone, a model that is not there, the server away).

let timer = null;

/** Show `text` in #notice for `ms` milliseconds (a newer notice replaces it). */
export function notify(text, ms = 10_000) {
  const el = document.querySelector("#notice");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => { el.hidden = true; }, ms);
}
