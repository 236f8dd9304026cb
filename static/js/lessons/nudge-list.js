// The parameters with the largest |gradient| for one example, in words a class can read.

/** Return a short description of where a weight or bias sits (layer 0 = input -> first hidden). */
export function describeNudge(n, nLayers = 3) {
  const into = n.layer === nLayers - 1 ? `output ${n.neuron}` : `hidden layer ${n.layer + 1}, neuron ${n.neuron + 1}`;
  if (n.kind === "bias") return `bias of ${into}`;
  const from = n.layer === 0 ? `pixel (${n.pixel.row}, ${n.pixel.col})` : `hidden layer ${n.layer}, neuron ${n.source + 1}`;
  return `weight ${from} → ${into}`;
}

export class NudgeList {
  constructor(list) { this.list = list; }

  /** nudges: [{kind, layer, neuron, source, gradient, value, pixel?}], biggest first. */
  update(nudges, nLayers) {
    this.list.replaceChildren(...nudges.map((n) => {
      const li = document.createElement("li");
      const symbol = n.kind === "bias" ? "∂C/∂b" : "∂C/∂w";
      li.textContent = `${describeNudge(n, nLayers)}: ${symbol} = ${n.gradient.toPrecision(2)} (now ${n.value.toFixed(2)})`;
      return li;
    }));
  }
}
