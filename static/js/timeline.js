// Replay: a slider under the charts that scrubs back through a run's weight snapshots (running or
// ended). The right end is "live"; any other position names a snapshot (GET /api/runs/{id}/snapshots).
import { throttle } from "./lib/throttle.js";

const fmt = new Intl.NumberFormat("en");

export class Timeline {
  /** input: #timeline (range); label: where the position is said; onScrub(snapshot | null = live). */
  constructor(input, label, onScrub) {
    this.input = input;
    this.label = label;
    this.snapshots = [];
    this.onScrub = onScrub;
    const scrub = throttle(() => this.onScrub(this.current()), 150);
    input.addEventListener("input", () => { this.say(); scrub(); });
    input.addEventListener("change", () => scrub.flush());
    this.set([]);
  }

  /** Return the snapshot the slider stands on, or null at the live end. */
  current() {
    const k = Number(this.input.value);
    return k >= this.snapshots.length ? null : this.snapshots[k];
  }

  /** snapshots: the list (oldest first); the slider keeps its snapshot (or stays live). */
  set(snapshots) {
    const was = this.current();
    this.snapshots = Array.isArray(snapshots) ? snapshots : [];
    this.input.max = String(this.snapshots.length);
    this.input.disabled = this.snapshots.length === 0;
    const k = was ? this.snapshots.findIndex((s) => s.index === was.index) : -1;
    this.input.value = String(k >= 0 ? k : this.snapshots.length);
    this.say();
  }

  /** Go back to the live end (another run, or the "live" button). */
  live() {
    this.input.value = this.input.max;
    this.say();
    this.onScrub(null);
  }

  say() {
    const s = this.current();
    this.input.setAttribute("aria-valuetext", s ? `after ${s.examples_seen} examples` : "live");
    this.label.textContent = s ? `Replay: the network after ${fmt.format(s.examples_seen)} examples` +
      (Number.isFinite(s.probe_accuracy) ? ` (${(100 * s.probe_accuracy).toFixed(1)}% on the probe)` : "")
      : this.snapshots.length ? "Live: drag left to replay the run" : "Replay: no snapshots yet";
    document.body.classList.toggle("replaying", Boolean(s));
  }
}
