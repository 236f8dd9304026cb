// Presentation mode (the button or the "p" key): the controls go, the canvas, the network and the
// charts fill the screen in large type, for the back of a classroom.

export class Presentation {
  /** button: #presentation; onChange(on) after the layout changed (charts re-measure their text). */
  constructor(button, onChange = () => {}) {
    this.button = button;
    this.onChange = onChange;
    button.addEventListener("click", () => this.toggle());
    document.addEventListener("keydown", (e) => {
      const typing = e.target.closest?.("input, select, textarea, [contenteditable]");
      if (typing || e.ctrlKey || e.metaKey || e.altKey || e.key.toLowerCase() !== "p") return;
      this.toggle();
    });
    if (new URLSearchParams(location.search).has("present")) this.toggle(true);
  }

  get on() {
    return document.body.classList.contains("presenting");
  }

  toggle(on = !this.on) {
    document.body.classList.toggle("presenting", on);
    this.button.setAttribute("aria-pressed", String(on));
    this.button.textContent = on ? "Exit presentation" : "Present";
    requestAnimationFrame(() => this.onChange(on));
  }
}
