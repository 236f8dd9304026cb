// What one Step changed: the batch's cost before and after the update, how many examples it took,
// and the first-layer weights' change as heatmaps (red: went down, blue: went up).
import { Heatmaps } from "./heatmaps.js";

const fmt = new Intl.NumberFormat("en");

export class StepView {
  /** root: #step-result (holds .step-text and .step-maps). */
  constructor(root) {
    this.root = root;
    this.text = root.querySelector(".step-text");
    this.maps = new Heatmaps(root.querySelector(".step-maps"), root.querySelector(".step-scale"),
      (scale) => `(largest change ±${scale.toPrecision(2)})`);
    this.last = null;
  }

  /** result: the answer of POST /api/runs/{id}/step, or null to hide. */
  update(result) {
    this.last = result;
    this.root.hidden = !result;
    if (!result) return;
    const taken = result.examples_seen - result.examples_seen_before;
    const before = result.batch_cost_before, after = result.batch_cost_after;
    const better = after < before ? "lower: the step helped on this batch" : "not lower on this batch";
    this.text.textContent = `${result.steps === 1 ? "One mini-batch" : `${result.steps} mini-batches`} ` +
      `(${fmt.format(taken)} examples; ${fmt.format(result.examples_seen)} seen in all). ` +
      `Cost of the batch: ${before.toFixed(4)} before, ${after.toFixed(4)} after (${better}).`;
    if (result.delta) this.maps.update(result.delta);
    this.root.dataset.examplesSeen = String(result.examples_seen);
  }
}
