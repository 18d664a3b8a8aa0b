// GameSocket: one WebSocket per view, speaking docs/protocol.md.
//
// Keeps `state` = the last snapshot ({seq, now, game, you}) with every event applied in order and
// every update (`room`, `you`: no seq, each replaces a piece whole) merged in; what belongs to the
// game's type (its events' fields, its updates such as `progress`) goes to the `reduce` hook;
// reconnects with exponential backoff and full jitter, estimates the server's clock, and turns
// commands into promises settled by their ack or error. Pending commands are re-sent with the
// same id after a reconnect: the server applies a retried id once. Requests (`players`, `results`,
// and a type's own) resolve with their reply.

import { socketUrl } from "./endpoints.js";

const BASE_DELAY = 500;
const MAX_DELAY = 10000;
const PING_EVERY = 15000;
const SILENCE_LIMIT = 40000; // no message at all for this long: the socket is dead, reconnect
const CONNECT_TIMEOUT = 8000;
const CLOCK_SAMPLES = 8;
const REQUEST_TIMEOUT = 10000;
// Errors that can answer a request (`players`, `results`): they carry no id.
const REQUEST_ERRORS = new Set(["bad_message", "no_such_round", "forbidden", "rate_limited", "invalid", "internal", "stale"]);

/** The server's clock, as measured by the page's socket (one socket per page). */
export const clock = {
  offset: 0,
  measured: false,
  samples: [],
  now() {
    return Date.now() + this.offset;
  },
  addSample(rtt, offset) {
    this.samples.push({ rtt, offset });
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
    let best = this.samples[0];
    for (const s of this.samples) if (s.rtt <= best.rtt) best = s;
    this.offset = best.offset;
    this.measured = true;
  },
};

export function serverNow() {
  return clock.now();
}

/** A unique id; crypto.randomUUID needs a secure context, which plain http on a LAN is not. */
export function uid() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    try {
      return crypto.randomUUID();
    } catch {
      /* insecure context: fall through */
    }
  }
  const b = new Uint8Array(16);
  if (globalThis.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class CommandError extends Error {
  constructor(code, message, msg = null) {
    super(message || code);
    this.code = code;
    this.reply = msg;
  }
}

export class GameSocket {
  /**
   * @param {{gameId: string, token: string, view: "host"|"screen"|"player",
   *          reduce?: (state: object, msg: object) => boolean|void}} opts
   * `reduce` is the game type's part of each event and update (types.js); false ignores an update.
   */
  constructor({ gameId, token, view, reduce = () => true }) {
    this.gameId = gameId;
    this.token = token;
    this.view = view;
    this.reduce = reduce;
    this.state = null;
    this.status = "idle"; // idle | connecting | open | reconnecting | stopped
    this.ws = null;
    this.ready = false; // hello answered with a snapshot
    this.stopped = false;
    this.attempt = 0;
    this.pending = new Map(); // id -> {msg, resolve, reject}
    this.requests = new Map(); // type -> {fields, resolve, reject, timer}: one outstanding per type
    this.listeners = new Map();
    this.syncing = false;
    this.lastMessageAt = 0;
    this.timers = { retry: 0, ping: 0, connect: 0, watchdog: 0, probe: 0 };
  }

  // ---- events for the page: "state", "status", "error", "fatal", "event", "you", "room", and each
  // update of the type by its own type ("progress") ------------------------------------------------
  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  emit(name, data) {
    for (const fn of this.listeners.get(name) || []) {
      try {
        fn(data);
      } catch (err) {
        console.error(`GameSocket ${name} listener failed`, err);
      }
    }
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", status);
  }

  start() {
    if (this.started) return this;
    this.started = true;
    // Leaving the page closes the socket: that is not a lost connection.
    window.addEventListener("pagehide", () => this.close());
    // ...unless the page comes back from the back/forward cache: then pick up again.
    window.addEventListener("pageshow", (e) => {
      if (e.persisted && this.stopped && this.status !== "stopped") {
        this.stopped = false;
        this.attempt = 0;
        this.connect();
      }
    });
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.probe();
    });
    this.connect();
    return this;
  }

  /** Stop for good (the page is going away or the game refused us). */
  close() {
    this.stopped = true;
    this.clearTimers();
    if (this.ws) {
      try {
        this.ws.close(1000);
      } catch {
        /* ignore */
      }
    }
  }

  clearTimers() {
    clearTimeout(this.timers.retry);
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.connect);
    clearInterval(this.timers.watchdog);
    clearTimeout(this.timers.probe);
  }

  connect() {
    if (this.stopped) return;
    this.clearTimers();
    const url = socketUrl(this.gameId);
    this.ready = false;
    this.syncing = false;
    this.setStatus(this.attempt === 0 && !this.state ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.timers.connect = setTimeout(() => {
      if (this.ws === ws && !this.ready) this.drop(ws);
    }, CONNECT_TIMEOUT);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.lastMessageAt = Date.now();
      this.raw({ type: "hello", token: this.token, view: this.view });
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      this.lastMessageAt = Date.now();
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg && typeof msg === "object") this.onMessage(msg);
    };
    ws.onclose = (e) => this.onClose(ws, e);
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  /** Abandon a socket that looks dead and reconnect. */
  drop(ws) {
    if (this.ws !== ws) return;
    this.ws = null;
    try {
      ws.close(4000);
    } catch {
      /* ignore */
    }
    this.ready = false;
    this.scheduleReconnect();
  }

  onClose(ws, e) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.ready = false;
    clearInterval(this.timers.ping);
    clearInterval(this.timers.watchdog);
    if (e && e.code === 4003) {
      this.fatal("kicked", "The host removed you from this game.");
      return;
    }
    if (this.stopped) return;
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.stopped) return;
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.connect);
    this.setStatus("reconnecting");
    // Exponential backoff with full jitter: a room full of phones does not reconnect in step.
    const cap = Math.min(MAX_DELAY, BASE_DELAY * 2 ** this.attempt);
    const delay = Math.random() * cap;
    this.attempt += 1;
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  /** Reconnect at once (the network came back). */
  reconnectNow() {
    if (this.stopped) return;
    if (this.ws && this.ready) {
      this.probe();
      return;
    }
    this.attempt = 0;
    if (this.ws) this.drop(this.ws);
    else this.connect();
  }

  /** The page became visible again (a phone woke up): make sure the socket still answers. */
  probe() {
    if (this.stopped) return;
    const ws = this.ws;
    if (!ws || !this.ready) {
      if (!ws) this.reconnectNow();
      return;
    }
    const before = Date.now();
    this.ping();
    clearTimeout(this.timers.probe);
    this.timers.probe = setTimeout(() => {
      if (this.ws === ws && this.lastMessageAt < before) {
        this.attempt = 0;
        this.drop(ws);
      }
    }, 3500);
  }

  fatal(code, message) {
    this.stopped = true;
    this.clearTimers();
    this.ready = false;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try {
        ws.close(1000);
      } catch {
        /* ignore */
      }
    }
    for (const [, p] of this.pending) p.reject(new CommandError(code, message));
    this.pending.clear();
    for (const [, r] of this.requests) {
      clearTimeout(r.timer);
      r.reject(new CommandError(code, message));
    }
    this.requests.clear();
    this.setStatus("stopped");
    this.emit("fatal", { code, message });
  }

  raw(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  ping() {
    this.raw({ type: "ping", t: Date.now() });
  }

  sync() {
    if (this.ready && !this.syncing) {
      this.syncing = true;
      this.raw({ type: "sync" });
    }
  }

  /**
   * Send a command; resolves with its ack, rejects with a CommandError from its error reply.
   * While disconnected the command waits and goes out (with the same id) after the next hello.
   */
  send(type, fields = {}) {
    if (this.stopped) return Promise.reject(new CommandError("disconnected", "Not connected."));
    const id = uid();
    const msg = { ...fields, type, id };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { msg, resolve, reject });
      if (this.ready) this.raw(msg);
    });
  }

  get pendingCount() {
    return this.pending.size;
  }

  /**
   * Send a request (`players`, `results`) and resolve with its reply. Requests carry no id: at most
   * one is outstanding per type, a newer one supersedes it (the older resolves with null), and a
   * reply is matched by the fields it echoes (`query`, `offset`, `round`).
   */
  request(type, fields = {}) {
    if (this.stopped) return Promise.reject(new CommandError("disconnected", "Not connected."));
    const prev = this.requests.get(type);
    if (prev) {
      clearTimeout(prev.timer);
      prev.resolve(null);
    }
    return new Promise((resolve, reject) => {
      const req = { type, fields, resolve, reject, timer: 0 };
      req.timer = setTimeout(() => {
        if (this.requests.get(type) === req) {
          this.requests.delete(type);
          reject(new CommandError("timeout", "The server did not answer in time."));
        }
      }, REQUEST_TIMEOUT);
      this.requests.set(type, req);
      if (this.ready) this.raw({ ...fields, type });
    });
  }

  onReply(msg) {
    const req = this.requests.get(msg.type);
    if (!req) return;
    for (const k of Object.keys(req.fields)) {
      if (k in msg && msg[k] !== req.fields[k]) return; // a superseded request's reply
    }
    this.requests.delete(msg.type);
    clearTimeout(req.timer);
    req.resolve(msg);
  }

  onMessage(msg) {
    switch (msg.type) {
      case "snapshot":
        return this.onSnapshot(msg);
      case "pong":
        return this.onPong(msg);
      case "ack": {
        const p = this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          p.resolve(msg);
        }
        return;
      }
      case "error":
        return this.onError(msg);
      case "players":
      case "results":
        return this.onReply(msg);
      case "you":
        return this.onYou(msg);
      case "room":
        return this.onRoom(msg);
      case "lane":
        return this.onLane(msg);
      default:
        if (typeof msg.seq === "number") this.onEvent(msg);
        else if (this.requests.has(msg.type)) this.onReply(msg); // a type's own request (a Q&A's `questions`)
        else this.onUpdate(msg);
    }
  }

  /** Your own standing, or what your game's type keeps private to you: merged into `state.you`. */
  onYou(msg) {
    const s = this.state;
    if (!s || !this.ready) return;
    const { type, ...fields } = msg;
    void type;
    s.you = { ...(s.you || {}), ...fields };
    this.emit("you", s.you);
    this.emit("state", msg);
  }

  /** The room's counts (and, for the board views, the latest nicknames): replaces `game.room`. */
  onRoom(msg) {
    const s = this.state;
    if (!s || !this.ready) return;
    const { type, ...room } = msg;
    void type;
    s.game.room = room;
    this.emit("room", room);
    this.emit("state", msg);
  }

  /** The lane's counts and lists (a type running alongside the rounds, lanes.js): merged into `game.lane`. */
  onLane(msg) {
    const s = this.state;
    if (!s || !this.ready || !s.game.lane) return;
    const { type, round, ...fields } = msg;
    void type;
    void round;
    Object.assign(s.game.lane, fields);
    this.emit("lane", s.game.lane);
    this.emit("state", msg);
  }

  /** An update of the game's type (`progress`: the round's counts), merged by its reducer. */
  onUpdate(msg) {
    const s = this.state;
    if (!s || !this.ready || typeof msg.type !== "string") return;
    if (this.reduce(s, msg) === false) return;
    this.emit(msg.type, msg);
    this.emit("state", msg);
  }

  onSnapshot(msg) {
    this.state = { seq: msg.seq, now: msg.now, game: msg.game, you: msg.you || {} };
    this.syncing = false;
    if (!clock.measured && typeof msg.now === "number") clock.offset = msg.now - Date.now();
    if (!this.ready) {
      this.ready = true;
      this.attempt = 0;
      clearTimeout(this.timers.connect);
      this.ping();
      clearInterval(this.timers.ping);
      this.timers.ping = setInterval(() => this.ping(), PING_EVERY);
      clearInterval(this.timers.watchdog);
      const ws = this.ws;
      this.timers.watchdog = setInterval(() => {
        if (this.ws === ws && Date.now() - this.lastMessageAt > SILENCE_LIMIT) this.drop(ws);
      }, 5000);
      // Commands sent while we were away go out again with the same id.
      for (const [, p] of this.pending) this.raw(p.msg);
      for (const [type, r] of this.requests) this.raw({ ...r.fields, type });
      this.setStatus("open");
    }
    this.emit("state", msg);
  }

  onPong(msg) {
    const t1 = Date.now();
    const t0 = Number(msg.t);
    if (!Number.isFinite(t0) || typeof msg.now !== "number") return;
    const rtt = t1 - t0;
    if (rtt < 0 || rtt > 60000) return;
    clock.addSample(rtt, msg.now - (t0 + t1) / 2);
    this.emit("clock", clock.offset);
  }

  onError(msg) {
    if (msg.id && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      // "internal" or "rate_limited": nothing was applied, so the same command (same id) may go again.
      if ((msg.code === "internal" || msg.code === "rate_limited") && (p.retries || 0) < 3) {
        p.retries = (p.retries || 0) + 1;
        setTimeout(() => {
          if (this.pending.get(msg.id) === p && this.ready) this.raw(p.msg);
        }, 400 * p.retries);
        return;
      }
      this.pending.delete(msg.id);
      p.reject(new CommandError(msg.code, msg.message, msg));
      return;
    }
    if (msg.id) return; // the answer to a command we no longer wait for
    if (this.ready && this.requests.size && REQUEST_ERRORS.has(msg.code)) {
      // Requests carry no id: an error without one answers the oldest outstanding request.
      const [type, r] = this.requests.entries().next().value;
      this.requests.delete(type);
      clearTimeout(r.timer);
      r.reject(new CommandError(msg.code, msg.message, msg));
      return;
    }
    if (!this.ready && (msg.code === "unauthorized" || msg.code === "kicked")) {
      this.fatal(msg.code, msg.message);
      return;
    }
    if (msg.code === "kicked") {
      this.fatal(msg.code, msg.message);
      return;
    }
    this.emit("error", msg);
  }

  onEvent(msg) {
    const s = this.state;
    if (!s || !this.ready) return;
    if (msg.seq <= s.seq) return; // already in the snapshot
    if (msg.seq > s.seq + 1) {
      this.sync(); // a gap: ask for a fresh snapshot and drop events until it comes
      return;
    }
    if (this.syncing) return;
    s.seq = msg.seq;
    this.reduce(s, msg); // the type's part first: it sees the state the event changes
    const g = s.game;
    switch (msg.type) {
      case "lobby_locked":
        g.locked = !!msg.locked;
        break;
      case "phase_changed":
        g.status = msg.status ?? g.status;
        g.phase = msg.phase;
        g.round = msg.round ?? null;
        if (msg.leaderboard) g.leaderboard = msg.leaderboard;
        break;
      default:
        break; // an event this page does not know: its seq still counts
    }
    this.emit("event", msg);
    this.emit("state", msg);
  }
}
