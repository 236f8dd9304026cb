// The REST half of docs/api.md. Every call resolves to JSON or throws an Error whose message is
// the server's own explanation (its "detail"), ready to show to a person.

const TIMEOUT_MS = 8000;
const TOKEN_KEY = "digit-studio-teacher-token";

/** The teacher token for changing actions (docs/api.md), kept for this tab only. */
export const teacherToken = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set: (value) => (value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY)),
};

async function call(method, path, body) {
  const init = { method, headers: {}, signal: AbortSignal.timeout(TIMEOUT_MS) };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const token = teacherToken.get();
  if (method !== "GET" && token) init.headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, init);
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const detail = data?.detail;
    const text = Array.isArray(detail) ? detail.map((d) => `${d.loc?.at(-1) ?? ""}: ${d.msg}`).join("; ") : detail;
    const err = new Error(text || `${method} ${path} failed (${res.status})`);
    err.status = res.status;
    err.detail = detail;   // FastAPI's 422 list names the field (loc) that was refused
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;
export const api = {
  health: () => call("GET", "/api/health"),
  models: () => call("GET", "/api/models"),
  runs: () => call("GET", "/api/runs"),
  run: (id) => call("GET", `/api/runs/${enc(id)}`),
  history: (id) => call("GET", `/api/runs/${enc(id)}/history`),
  start: (config) => call("POST", "/api/runs", config),
  action: (id, action) => call("POST", `/api/runs/${enc(id)}/${action}`),
  save: (id, name, overwrite = false) =>
    call("POST", `/api/runs/${enc(id)}/save${overwrite ? "?overwrite=true" : ""}`, { name }),
  deleteRun: (id) => call("DELETE", `/api/runs/${enc(id)}`),   // 204: resolves to null
  deleteModel: (name) => call("DELETE", `/api/models/${enc(name)}`),
  runConfig: () => call("GET", "/api/run-config"),
  pace: (id, pace) => call("POST", `/api/runs/${enc(id)}/pace`, { pace }),
  step: (id, steps = 1) => call("POST", `/api/runs/${enc(id)}/step`, { steps }),
  studio: () => call("GET", "/api/studio"),
  setWatched: (id) => call("PUT", "/api/studio", { watched: id }),
  network: (id, snapshot) => call("GET", `/api/runs/${enc(id)}/network${snapshot === undefined ? "" : `?snapshot=${snapshot}`}`),
  neuron: (id, layer, index, snapshot) => call("GET", `/api/runs/${enc(id)}/neuron?layer=${layer}&index=${index}` +
    (snapshot === undefined ? "" : `&snapshot=${snapshot}`)),
  snapshots: (id) => call("GET", `/api/runs/${enc(id)}/snapshots`),
  snapshotWeights: (id, index, neurons) =>
    call("GET", `/api/runs/${enc(id)}/snapshots/${index}/weights?neurons=${neurons.join(",")}`),
  /** target: {model: NAME} or {run: ID, snapshot?: INDEX}; pixels: 784 numbers in 0..1. */
  predict: (target, pixels) => {
    const query = target.model ? `model=${enc(target.model)}`
      : `run=${enc(target.run)}${target.snapshot === undefined ? "" : `&snapshot=${target.snapshot}`}`;
    return call("POST", `/api/predict?${query}`, { pixels: Array.from(pixels, (v) => Math.round(v * 1000) / 1000) });
  },
};

/** Return the run to watch when none is named: the newest running one, else the newest at all. */
export function newestRun(runs) {
  return runs.find((r) => r.status === "running") ?? runs.find((r) => r.status === "paused")
    ?? runs.find((r) => r.status === "queued") ?? runs[0] ?? null;
}
