// Tiny DOM helpers. Strings always become text nodes: user text never goes through innerHTML.

import { apiUrl } from "./endpoints.js";

const PROPS = new Set(["value", "checked", "selected", "htmlFor", "textContent", "indeterminate"]);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style" && typeof v === "object") {
      // CSSOM, never a style attribute: the appliance's CSP refuses inline style attributes.
      for (const [prop, val] of Object.entries(v)) {
        if (prop.startsWith("--")) el.style.setProperty(prop, val);
        else el.style[prop] = val;
      }
    }
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Set text only when it changed (keeps layout and selection quiet). */
export function setText(el, text) {
  const t = String(text ?? "");
  if (el && el.textContent !== t) el.textContent = t;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** The root element's data- attributes, as the server rendered them. A page rendered once for every
 * game (the cloud's static site, web/pages.py) has them empty: its address names the game or the code
 * (/play/<id>, /j/<code>). */
export function pageData() {
  const app = document.getElementById("app");
  const data = app ? { ...app.dataset } : {};
  let fromPath = "";
  try {
    fromPath = decodeURIComponent(location.pathname.split("/")[2] || "");
  } catch {
    /* a mangled address names nothing */
  }
  for (const key of ["gameId", "code"]) if (data[key] === "") data[key] = fromPath;
  return data;
}

// ---- toasts and the connection banner -------------------------------------------------------

function toastHost() {
  let host = document.getElementById("toasts");
  if (!host) {
    host = h("div", { id: "toasts", class: "toasts", "aria-live": "polite" });
    document.body.append(host);
  }
  return host;
}

export function toast(message, kind = "info", ms = 4500) {
  const el = h("div", { class: ["toast", `toast-${kind}`], role: kind === "error" ? "alert" : "status" }, message);
  toastHost().append(el);
  requestAnimationFrame(() => el.classList.add("in"));
  const close = () => {
    el.classList.remove("in");
    el.classList.add("out");
    setTimeout(() => el.remove(), 300);
  };
  el.addEventListener("click", close);
  setTimeout(close, ms);
  return close;
}

export function banner(text, kind = "warn") {
  let el = document.getElementById("banner");
  if (!el) {
    el = h("div", { id: "banner", class: "banner", role: "status", "aria-live": "polite" });
    document.body.prepend(el);
  }
  if (!text) {
    el.hidden = true;
    document.body.classList.remove("has-banner");
    return;
  }
  el.className = `banner banner-${kind}`;
  setText(el, text);
  el.hidden = false;
  document.body.classList.add("has-banner");
}

/** Show the socket's connection status as the banner. */
export function connectionBanner(status) {
  if (status === "reconnecting") banner("Connection lost — reconnecting…", "warn");
  else if (status === "connecting") banner(null);
  else banner(null);
}

// ---- small formatting helpers ----------------------------------------------------------------

/** A stable hue for a nickname, so every view colours a player the same way. */
export function hue(text) {
  let x = 2166136261;
  for (const ch of String(text)) {
    x ^= ch.codePointAt(0);
    x = Math.imul(x, 16777619);
  }
  return Math.abs(x) % 360;
}

export function initials(name) {
  const parts = String(name).trim().split(/\s+/).filter(Boolean);
  const first = [...(parts[0] || "?")][0] || "?";
  const second = parts.length > 1 ? [...parts[1]][0] : "";
  return (first + second).toUpperCase();
}

export function avatar(name, extra = "") {
  return h(
    "span",
    { class: ["avatar", extra], style: { "--hue": String(hue(name)) }, "aria-hidden": "true" },
    initials(name),
  );
}

export function ordinal(n) {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return `${n}${s[(v - 20) % 10] || s[v] || s[0]}`;
}

/** A count as people read it: 2,000 (in the page's locale). */
export function num(n) {
  return Number(n ?? 0).toLocaleString();
}

export function plural(n, one, many = `${one}s`) {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/** "3rd of 2,000". */
export function rankOf(rank, total) {
  return total ? `${ordinal(rank)} of ${num(total)}` : ordinal(rank);
}

// ---- what screen readers hear when the game moves on ----------------------------------------

/** Say `text` politely in the page's live region (created on first use), once per change. */
export function announce(text) {
  let el = document.getElementById("announcer");
  if (!el) {
    el = h("div", { id: "announcer", class: "sr-only", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  if (el.dataset.said === text) return;
  el.dataset.said = text;
  // Clear first, so the same words said again (another round) are read again.
  el.textContent = "";
  setTimeout(() => {
    if (el.dataset.said === text) el.textContent = text;
  }, 60);
}

/** Human text for the server's error codes (commands and HTTP alike); a type adds its own `texts`. */
export function errorText(err, texts = {}) {
  const code = err && err.code;
  const known = {
    ...texts,
    stale: "Too late — the game has moved on.",
    no_such_player: "That player is no longer in the game.",
    forbidden: "You're not allowed to do that.",
    rate_limited: "Slow down a moment, then try again.",
    finished: "The game is over.",
    kicked: "The host removed you from this game.",
    unauthorized: "This device isn't signed in to this game.",
    not_authenticated: "Still connecting — try again in a second.",
    disconnected: "Not connected — trying again…",
  };
  if (code && known[code]) return known[code];
  if (err && err.message) return err.message;
  return "Something went wrong. Try again.";
}

/** A Web Storage area that never throws (private mode, quota, disabled storage all read as empty). */
function safeStorage(area) {
  const attempt = (fn, fallback) => {
    try {
      return fn(area());
    } catch {
      return fallback;
    }
  };
  return {
    get: (key) => attempt((a) => a.getItem(key), null),
    set: (key, value) => attempt((a) => a.setItem(key, value)),
    remove: (key) => attempt((a) => a.removeItem(key)),
    names: () => attempt((a) => Array.from({ length: a.length }, (_, i) => a.key(i)), []),
  };
}

export const store = safeStorage(() => localStorage);
export const session = safeStorage(() => sessionStorage);

export const keys = {
  host: (gameId) => `engagements:host:${gameId}`,
  player: (gameId) => `engagements:player:${gameId}`,
  code: (code) => `engagements:code:${String(code).toUpperCase()}`,
  admin: "engagements:admin",
  nickname: "engagements:nickname",
  device: "engagements:device",
  client: (code) => `engagements:client:${String(code).toUpperCase()}`,
};

/** A random id (128 bits, hex): the device id and a join's client id. */
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The same value under `key` every time: made once, then kept in localStorage (when it works). */
export function kept(key) {
  let value = store.get(key);
  if (!value) {
    value = randomId();
    store.set(key, value);
  }
  return value;
}

/** A path on this origin from a URL the server gave (which may name the LAN address). */
export function samePath(url, fallback) {
  try {
    const u = new URL(url, location.href);
    return u.pathname + u.search + u.hash;
  } catch {
    return fallback;
  }
}

/** fetch JSON; throws an Error with .code, .status, .retryAfter from the server's error body. */
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(apiUrl(path), init);
  } catch {
    const e = new Error("Can't reach the game server. Check you're on the venue Wi-Fi.");
    e.code = "network";
    e.status = 0;
    throw e;
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const info = (data && data.error) || {};
    const e = new Error(info.message || `The server answered ${res.status}.`);
    e.code = info.code || `http_${res.status}`;
    e.status = res.status;
    const ra = Number.parseInt(res.headers.get("Retry-After") || "", 10);
    e.retryAfter = Number.isFinite(ra) ? ra : null;
    throw e;
  }
  return data;
}
