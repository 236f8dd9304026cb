// Hover or tap a neuron in the network picture: its activation for the current drawing and what it
// looks for, as a 28x28 map (layer 1: its own weights; later layers: their weights combined with the
// earlier layers' maps, GET /api/runs/{id}/neuron).
import { paintMap } from "./network-diagram.js";
import { serial } from "./lib/throttle.js";

export class NeuronDetail {
  /** root: #neuron-detail; fetchMap(layer, index) -> the neuron endpoint's answer (or throws). */
  constructor(root, fetchMap) {
    this.root = root;
    this.text = root.querySelector(".neuron-text");
    this.canvas = root.querySelector("canvas");
    this.caption = root.querySelector(".neuron-map-caption");
    this.load = serial(async (layer, index) => {
      const out = await fetchMap(layer, index);
      if (this.shown?.layer !== layer || this.shown?.index !== index) return;
      paintMap(this.canvas, out.map);
      this.canvas.hidden = false;
      this.caption.textContent = out.kind === "combined"
        ? "what it looks for: its weights through the layers before it, in pixels"
        : "what it looks for: its 784 input weights (blue +, red −)";
    }, (err) => { this.caption.textContent = `(its map is not available: ${err.message})`; });
  }

  /** Show a neuron: layer (1-based, outputs last), index, activation or null, isOutput. */
  show(layer, index, activation, isOutput) {
    this.shown = { layer, index };
    this.root.hidden = false;
    const who = isOutput ? `output neuron for digit ${index}` : `layer ${layer}, neuron ${index + 1}`;
    this.text.textContent = `${who}: ` + (activation === null ? "draw a digit to see its activation"
      : `activation ${activation.toFixed(3)}`);
    this.load(layer, index);
  }

  /** The run or snapshot changed: refresh the map shown. */
  refresh() {
    if (this.shown && !this.root.hidden) this.load(this.shown.layer, this.shown.index);
  }
}
