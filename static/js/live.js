// The live channel (WS /api/runs/{id}/live): one socket to the run being watched, reopened by
// itself after a server restart or a network loss, with an on-screen banner while it is down.
// The newest "draw" and "neurons" messages are re-sent on every (re)connect, so the server
// always knows what this page is showing.

const BACKOFF_MS = [250, 500, 1000, 2000];   // then every 2 s: cheap, and a class is not kept waiting

export class LiveChannel {
  /**
   * onMessage(msg): every JSON message; banner: the element shown while disconnected;
   * beforeReconnect(): async, returns the run id to reconnect to (the run may be gone after a restart).
   */
  constructor({ onMessage, banner, beforeReconnect }) {
    this.onMessage = onMessage;
    this.banner = banner;
    this.beforeReconnect = beforeReconnect;
    this.runId = null;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.sticky = new Map();      // type -> newest message, re-sent after reconnecting
    this.state = "idle";
  }

  /** Watch another run (closes the current socket quietly). */
  watch(runId) {
    if (runId === this.runId && this.ws && this.state !== "reconnecting") return;
    this.runId = runId;
    this.attempt = 0;
    this.open();
  }

  /** Send now if connected; either way remember it for the next connection. */
  send(msg) {
    this.sticky.set(msg.type, msg);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/api/runs/${encodeURIComponent(this.runId)}/live`;
  }

  open() {
    this.shut();
    if (!this.runId) return;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.attempt = 0;
      this.setState("open");
      for (const msg of this.sticky.values()) ws.send(JSON.stringify(msg));
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      this.onMessage(msg);
    };
    ws.onclose = () => { if (ws === this.ws) this.retry(); };
  }

  /** Close the current socket without triggering a reconnect. */
  shut() {
    clearTimeout(this.timer);
    const old = this.ws;
    this.ws = null;
    if (old) {
      old.onclose = old.onmessage = old.onopen = null;
      old.close();
    }
  }

  retry() {
    this.ws = null;
    this.setState("reconnecting");
    const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.timer = setTimeout(async () => {
      try {
        const id = await this.beforeReconnect?.();
        if (id) this.runId = id;
      } catch {
        this.retry();     // the server is still down: wait and try again
        return;
      }
      this.open();
    }, wait);
  }

  setState(state) {
    this.state = state;
    if (this.banner) this.banner.hidden = state !== "reconnecting";
    document.body.dataset.live = state;
  }
}
