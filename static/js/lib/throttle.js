// Rate limits. Drawing fires dozens of pointer events a second; the server wants a few drawings
// a second, and always the newest one.

/**
 * Return a function that calls fn at most once per `ms` with the newest arguments: the first call
 * runs at once, later ones within the window collapse into one trailing call. `.cancel()` drops
 * a pending call; `.flush()` runs it now.
 */
export function throttle(fn, ms) {
  let last = -Infinity, timer = null, pending = null;
  const run = () => {
    timer = null;
    last = Date.now();
    const args = pending;
    pending = null;
    fn(...args);
  };
  const throttled = (...args) => {
    pending = args;
    if (timer) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
  throttled.cancel = () => { clearTimeout(timer); timer = null; pending = null; };
  throttled.flush = () => { if (timer) { clearTimeout(timer); run(); } };
  return throttled;
}

/**
 * Return a function that, however often it is called, runs render(latest) at most once per
 * animation frame (or per `schedule` tick, for tests).
 */
export function perFrame(render, schedule = (cb) => requestAnimationFrame(cb)) {
  let queued = false, latest;
  return (data) => {
    latest = data;
    if (queued) return;
    queued = true;
    schedule(() => { queued = false; render(latest); });
  };
}

/**
 * Return a function that runs the async fn with at most one call in flight: calls made meanwhile
 * collapse into one follow-up call with the newest arguments. Errors go to onError.
 */
export function serial(fn, onError = () => {}) {
  let busy = false, pending = null;
  const go = async (args) => {
    busy = true;
    try {
      await fn(...args);
    } catch (err) {
      onError(err);
    } finally {
      busy = false;
      if (pending) {
        const next = pending;
        pending = null;
        go(next);
      }
    }
  };
  return (...args) => {
    if (busy) pending = args;
    else go(args);
  };
}
