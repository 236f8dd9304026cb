// Which network answers the drawing: the run being watched, or a shipped or saved model.
// The choice lives in the URL (/?model=NAME or /?run=ID) so a teacher can bookmark it.

export class ModelPicker {
  /** select: the <select>; onPick(name or ""): "" means the run being watched. */
  constructor(select, onPick) {
    this.select = select;
    select.addEventListener("change", () => onPick(select.value));
  }

  /** data: {models: GET /api/models, chosen: the model name or "", runLabel: text for the run}. */
  update({ models, chosen, runLabel }) {
    const first = new Option(runLabel ? `the run being watched (${runLabel})` : "the run being watched", "");
    const options = [first, ...models.map((m) => {
      const acc = Number.isFinite(m.test_accuracy) ? `, ${(100 * m.test_accuracy).toFixed(1)}%` : "";
      return new Option(`${m.name} (${m.kind}${acc})`, m.name);
    })];
    for (const o of options) o.selected = o.value === (chosen || "");
    this.select.replaceChildren(...options);
  }
}
