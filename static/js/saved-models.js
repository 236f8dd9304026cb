// Saved models in the Runs panel: pick one saved from a run and delete it (shipped models stay,
// so they are not offered). Only the list and the confirmation live here; main.js does the deleting.

export class SavedModels {
  /** onDelete(name): called after the teacher confirmed; its errors are shown by the caller. */
  constructor(root, onDelete) {
    this.select = root.querySelector("#saved-model-picker");
    this.button = root.querySelector("#delete-model");
    this.key = null;
    this.button.addEventListener("click", () => {
      const name = this.select.value;
      if (!name || !window.confirm(`Delete the saved model "${name}" for good?`)) return;
      onDelete(name);
    });
    this.update([]);
  }

  /** models: GET /api/models; only kind "saved" can be deleted. */
  update(models) {
    const names = models.filter((m) => m.kind === "saved").map((m) => m.name);
    const key = names.join("\n");
    if (key === this.key) return;   // rebuilding the options would close an open drop-down
    this.key = key;
    const options = names.map((n) => new Option(n, n));
    if (!options.length) options.push(new Option("none yet", ""));
    this.select.replaceChildren(...options);
    this.select.disabled = this.button.disabled = !names.length;
  }
}
