// Lesson 9: the test digits the network misreads, most confident first, beside its confusion matrix.
// Both come from GET /api/lessons/mistakes; with a run's live weights they refresh every few seconds.
import { getJSON } from "./http.js";
import { readSettings, saveSettings } from "./query.js";
import { SourcePicker } from "./source.js";

const $ = (sel) => document.querySelector(sel);
const SPEC = {
  right: { type: "number", min: -1, max: 9, integer: true, default: -1 },   // -1: every mistake
  answer: { type: "number", min: -1, max: 9, integer: true, default: -1 },
};
const LIVE_MS = 3000;
const settings = readSettings(window.location.search, SPEC);
const picker = new SourcePicker($("#source-picker"), () => refresh());
let live = false, busy = false;

/** Return a 28x28 canvas showing base64 bytes (0..255) as white ink on black, like MNIST. */
function digitCanvas(b64) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 28;
  canvas.className = "digit-image";
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(28, 28);
  bytes.forEach((v, i) => img.data.set([v, v, v, 255], i * 4));
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function showImages(data) {
  $("#mistake-grid").replaceChildren(...data.images.map((m) => {
    const li = document.createElement("li");
    li.className = m.answer === m.label ? "right" : "wrong";
    const canvas = digitCanvas(m.pixels);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `test image ${m.index}: a ${m.label}, read as ${m.answer}`);
    const says = document.createElement("p");
    says.innerHTML = `says <strong></strong> <small></small><br>is <strong></strong>`;
    const [answer, right] = says.querySelectorAll("strong");
    answer.textContent = String(m.answer);
    right.textContent = String(m.label);
    says.querySelector("small").textContent = `(${m.confidence.toFixed(2)})`;
    li.title = `test image #${m.index}: output ${m.confidence.toFixed(3)} for ${m.answer}, ${m.on_label.toFixed(3)} for ${m.label}`;
    li.append(canvas, says);
    return li;
  }));
}

function showMatrix(data) {
  const counts = data.confusion, off = counts.flatMap((row, r) => row.filter((_, a) => a !== r));
  const most = Math.max(1, ...off), diag = Math.max(1, ...counts.map((row, r) => row[r]));
  for (const button of document.querySelectorAll("#confusion button")) {
    const r = Number(button.dataset.right), a = Number(button.dataset.answer), n = counts[r][a];
    button.textContent = String(n);
    const share = r === a ? n / diag : Math.sqrt(n / most);
    button.style.setProperty("--share", share.toFixed(3));
    button.classList.toggle("diagonal", r === a);
    button.setAttribute("aria-pressed", String(settings.right === r && settings.answer === a));
    button.setAttribute("aria-label", `right ${r}, answered ${a}: ${n} images`);
  }
}

function summary(data) {
  const cell = data.cell;
  if (!cell) {
    return `${(100 * data.accuracy).toFixed(1)}% right: ${data.errors.toLocaleString("en")} of ` +
      `${data.n.toLocaleString("en")} misread. Showing the ${data.images.length} it was surest of.`;
  }
  const [r, a] = cell;
  const what = r === a ? `${data.matching} images of ${r} read right; the ${data.images.length} it was least sure of`
    : `${data.matching} images of ${r} read as ${a}`;
  return `${what}.`;
}

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const cell = settings.right >= 0 && settings.answer >= 0 ? { right: settings.right, answer: settings.answer } : {};
    const data = await getJSON("/api/lessons/mistakes", { ...cell, ...picker.source });
    showMatrix(data);
    showImages(data);
    $("#mistakes-summary").textContent = summary(data);
    $("#all-mistakes").hidden = !data.cell;
    $("#mistakes-title").textContent = data.cell ? "The digits of the chosen cell" : "Its mistakes, most confident first";
    picker.shown(data.model);
    live = data.model.kind === "run";
    $("#lesson-error").textContent = "";
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (err) { $("#lesson-error").textContent = err.message; }
  finally {
    busy = false;
    live ||= Boolean(picker.source.run);   // a run with no weights yet: ask again until it has some
  }
}

function choose(right, answer) {
  settings.right = right;
  settings.answer = answer;
  saveSettings(settings, SPEC);
  refresh();
}

$("#confusion").addEventListener("click", (e) => {
  const button = e.target.closest("button");
  if (button) choose(Number(button.dataset.right), Number(button.dataset.answer));
});
$("#all-mistakes").addEventListener("click", () => choose(-1, -1));
picker.load();
refresh();
setInterval(() => { if (live && !document.hidden) refresh(); }, LIVE_MS);
