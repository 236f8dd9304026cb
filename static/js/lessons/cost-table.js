// The cost of one example as a table: for each digit, the network's activation, the wanted value
// (one-hot), and the squared difference as a bar; the footer holds their sum.
/** Return a cost for reading: 3 decimals, or its first digits when smaller than 0.001, so a small
 * cost never reads as 0.000. */
export function costText(v) {
  if (v === 0 || !Number.isFinite(v) || v >= 0.001) return Number.isFinite(v) ? v.toFixed(3) : "–";
  return v.toPrecision(2).replace(/0+$/, "").replace(/\.$/, "");
}

/** Return one digit's squared gap for its narrow column: 3 decimals, "<0.001" when it is smaller. */
export function squareText(v) {
  return v > 0 && v < 0.001 ? "<0.001" : v.toFixed(3);
}

export class CostTable {
  constructor(table, costEl) {
    this.body = table.tBodies[0];
    this.costEl = costEl;
    this.rows = [];
    for (let d = 0; d < 10; d++) {
      const tr = document.createElement("tr");
      tr.dataset.digit = String(d);
      tr.innerHTML = `<th>${d}</th><td class="act"><span class="bar"><span class="fill"></span></span><span class="v"></span></td>` +
        `<td class="want"></td><td class="sq"><span class="bar"><span class="fill"></span></span><span class="v"></span></td>`;
      this.body.append(tr);
      this.rows.push({ tr, act: tr.querySelector(".act .fill"), actV: tr.querySelector(".act .v"),
        want: tr.querySelector(".want"), sq: tr.querySelector(".sq .fill"), sqV: tr.querySelector(".sq .v") });
    }
  }

  /** data: {activations[10], desired[10], squared[10], cost, digit, label}. */
  update(data) {
    this.rows.forEach((r, d) => {
      const a = data.activations[d], s = data.squared[d];
      r.act.style.width = `${100 * Math.max(0, Math.min(1, a))}%`;
      r.actV.textContent = a.toFixed(2);
      r.want.textContent = String(data.desired[d]);
      r.sq.style.width = `${100 * Math.min(1, s)}%`;
      r.sqV.textContent = squareText(s);
      r.tr.classList.toggle("wanted", d === data.label);
      r.tr.classList.toggle("win", d === data.digit);
    });
    this.costEl.textContent = costText(data.cost);
  }
}
