// JSON over HTTP for the lesson widgets. Errors carry the server's own explanation ("detail").
import { teacherToken } from "../api.js";
import { plainWords } from "./plain-words.js";

const TIMEOUT_MS = 15000;

function url(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

async function call(method, path, params, body) {
  const init = { method, headers: {}, signal: AbortSignal.timeout(TIMEOUT_MS) };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const token = teacherToken.get();   // starting a lesson's runs is the teacher's call on a shared server
  if (method !== "GET" && token) init.headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url(path, params), init);
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const detail = data?.detail;
    const err = new Error(plainWords(detail) || `${method} ${path} failed (${res.status})`);
    err.fields = Array.isArray(detail) ? detail.map((d) => String(d.loc?.at(-1) ?? "")) : [];
    throw err;
  }
  return data;
}

export const getJSON = (path, params) => call("GET", path, params);
export const postJSON = (path, params, body) => call("POST", path, params, body);
