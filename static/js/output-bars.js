// The ten output neurons as bars, the winner highlighted, plus the big predicted digit.
import { perFrame } from "./lib/throttle.js";

export class OutputBars {
  /** list: the <ol>; digitEl: where the winning digit is written; attr: the data attribute per bar. */
  constructor(list, digitEl, attr = "digit") {
    this.digitEl = digitEl;
    this.rows = [];
    for (let d = 0; d < 10; d++) {
      const li = document.createElement("li");
      li.dataset[attr] = String(d);
      li.innerHTML = `<span class="label">${d}</span><span class="track"><span class="fill"></span></span>` +
        `<span class="value"></span>`;
      list.append(li);
      this.rows.push({ li, fill: li.querySelector(".fill"), value: li.querySelector(".value") });
    }
    this.update = perFrame((data) => this.render(data));
  }

  /** data: {digit, activations: [10], note?} or null (nothing drawn: empty digit, empty bars). */
  render(data) {
    const acts = data?.activations ?? [];
    const digit = data && Number.isInteger(data.digit) ? data.digit : null;
    const top = Math.max(1, ...acts.filter(Number.isFinite));  // relu outputs may exceed 1
    this.rows.forEach((row, d) => {
      const a = Number.isFinite(acts[d]) ? acts[d] : 0;
      row.li.style.setProperty("--a", (Math.max(0, a) / top).toFixed(4));
      row.value.textContent = data ? a.toFixed(2) : "";
      row.li.classList.toggle("win", d === digit);
    });
    // A network that learned nothing names no digit (digit null, with a note): say so, not "0".
    const note = data && digit === null ? data.note ?? "" : "";
    this.digitEl.textContent = digit !== null ? String(digit) : note ? "?" : "";
    this.digitEl.title = note;
  }
}
