// Lesson 4's gradient as the video draws it: one column with a row for every weight and bias (13,002
// for the video's network), each with its nudge's direction and size beside the weight itself.
// Only the rows in view exist in the page (a scrolled window over the whole column), so 13,002 rows
// scroll as smoothly as 20.

const ROW_PX = 28;
const SPARE_ROWS = 6;

/** Return where parameter `flat` sits, in a few words ("pixel (5, 21) → h1 #11", "bias of out 7"), for
 * a network of these sizes. The order is the server's column order: a neuron's incoming weights, then
 * its bias, neuron by neuron and layer by layer. */
export function paramName(flat, sizes) {
  const layerName = (l) => (l === sizes.length - 1 ? "out" : `h${l}`);
  let start = 0;
  for (let layer = 0; layer < sizes.length - 1; layer++) {
    const inputs = sizes[layer] + 1, count = inputs * sizes[layer + 1];
    if (flat < start + count) {
      const neuron = Math.floor((flat - start) / inputs), source = (flat - start) % inputs;
      const into = layer === sizes.length - 2 ? `out ${neuron}` : `${layerName(layer + 1)} #${neuron + 1}`;
      if (source === inputs - 1) return `bias of ${into}`;
      const from = layer === 0 ? `pixel (${Math.floor(source / 28)}, ${source % 28})` : `${layerName(layer)} #${source + 1}`;
      return `${from} → ${into}`;
    }
    start += count;
  }
  return `parameter ${flat}`;
}

/** Return the arrow for a nudge: the way gradient descent moves the weight (against the gradient). */
export function nudgeArrow(gradient) {
  if (gradient < 0) return "↑";
  if (gradient > 0) return "↓";
  return "·";
}

/** Return the first-layer neuron (0-based) a parameter feeds, or null for a later layer. */
export function firstLayerNeuron(flat, sizes) {
  const inputs = sizes[0] + 1;
  return flat < inputs * sizes[1] ? Math.floor(flat / inputs) : null;
}

export class GradientColumn {
  /** scroller: the scrolling box; countEl: where "all 13,002 of them" is written; onPoint(neuron or
   * null): the pointer is on a row of that first-layer neuron's weights (or left the column). */
  constructor(scroller, countEl, onPoint = () => {}) {
    this.scroller = scroller;
    this.countEl = countEl;
    scroller.addEventListener("pointerover", (e) => {
      const li = e.target.closest("li[data-param]");
      onPoint(li && this.data ? firstLayerNeuron(Number(li.dataset.param), this.data.sizes) : null);
    });
    scroller.addEventListener("pointerleave", () => onPoint(null));
    this.order = "largest";
    this.spacer = document.createElement("div");
    this.rows = document.createElement("ul");
    this.rows.className = "gc-rows";
    this.spacer.append(this.rows);
    this.spacer.className = "gc-spacer";
    scroller.replaceChildren(this.spacer);
    scroller.addEventListener("scroll", () => this.render(), { passive: true });
    new ResizeObserver(() => this.render()).observe(scroller);
    this.data = null;
  }

  /** column: the server's {total, sizes, order, gradient, value, index}. */
  update(column) {
    const n = column.gradient.length;
    const flat = column.index ?? Array.from({ length: n }, (_, i) => i);
    this.data = { ...column, flat, max: Math.max(1e-30, ...column.gradient.map(Math.abs)) };
    this.sort();
    const whole = column.index === null;
    this.countEl.textContent = whole ? `all ${column.total.toLocaleString("en")} of them`
      : `the ${n.toLocaleString("en")} largest of ${column.total.toLocaleString("en")}`;
    this.scroller.dataset.rows = String(n);
    this.render();
  }

  setOrder(order) { this.order = order; if (this.data) { this.sort(); this.scroller.scrollTop = 0; this.render(); } }

  sort() {
    const { gradient } = this.data;
    const rows = Array.from(gradient.keys());
    if (this.order === "largest" || this.data.index !== null) rows.sort((a, b) => Math.abs(gradient[b]) - Math.abs(gradient[a]));
    this.data.rows = rows;
    this.spacer.style.height = `${rows.length * ROW_PX}px`;
  }

  render() {
    if (!this.data) return;
    const { rows, gradient, value, flat, max, sizes } = this.data;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_PX) - SPARE_ROWS);
    const count = Math.ceil(this.scroller.clientHeight / ROW_PX) + 2 * SPARE_ROWS;
    const shown = rows.slice(first, first + count);
    this.rows.style.transform = `translateY(${first * ROW_PX}px)`;
    this.rows.replaceChildren(...shown.map((k) => {
      const g = gradient[k], li = document.createElement("li");
      li.className = g < 0 ? "up" : g > 0 ? "down" : "still";
      li.dataset.param = String(flat[k]);
      const name = document.createElement("span");
      name.className = "gc-name";
      name.textContent = paramName(flat[k], sizes);
      const w = document.createElement("span");
      w.className = "gc-value";
      w.textContent = value[k].toFixed(2);
      const arrow = document.createElement("span");
      arrow.className = "gc-arrow";
      arrow.textContent = nudgeArrow(g);
      const bar = document.createElement("span");
      bar.className = "gc-bar";
      bar.style.setProperty("--size", String(Math.abs(g) / max));
      const size = document.createElement("span");
      size.className = "gc-size";
      size.textContent = Math.abs(g) === 0 ? "0" : Math.abs(g).toPrecision(2);
      li.append(name, w, arrow, bar, size);
      li.title = `row ${first + shown.indexOf(k) + 1}: ${name.textContent}, now ${value[k]}, ∂C/∂w = ${g}`;
      return li;
    }));
  }
}
