// Countdowns to a server deadline, corrected by the socket's clock offset.
//
// Any element with data-deadline="<ms since epoch, server clock>" is kept up to date by one shared
// timer, so pages can re-render freely: they only set the attribute.

import { h } from "./ui.js";
import { serverNow } from "./socket.js";

const TICK_MS = 250;
let timer = 0;

export function remainingMs(deadline) {
  if (deadline == null) return null;
  return Math.max(0, Number(deadline) - serverNow());
}

export function format(ms) {
  const total = Math.ceil(ms / 1000);
  if (total < 60) return String(total);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

function update(el) {
  const raw = el.dataset.deadline;
  if (!raw) {
    if (el.textContent !== "") el.textContent = "";
    el.classList.remove("urgent", "done");
    return;
  }
  const ms = remainingMs(Number(raw));
  const text = format(ms);
  if (el.textContent !== text) el.textContent = text;
  const secs = Math.ceil(ms / 1000);
  el.classList.toggle("urgent", secs <= 10 && secs > 0);
  el.classList.toggle("done", secs <= 0);
  el.setAttribute("aria-label", `${secs} seconds left`);
}

export function tick() {
  for (const el of document.querySelectorAll("[data-deadline]")) update(el);
}

function ensureTimer() {
  if (!timer) timer = setInterval(tick, TICK_MS);
}

/** A countdown element for `deadline` (null: an empty, hidden countdown). */
export function countdown(deadline, cls = "") {
  ensureTimer();
  const el = h("span", { class: ["countdown", cls], role: "timer" });
  setDeadline(el, deadline);
  return el;
}

export function setDeadline(el, deadline) {
  ensureTimer();
  if (deadline == null) {
    delete el.dataset.deadline;
    el.hidden = true;
  } else {
    el.dataset.deadline = String(deadline);
    el.hidden = false;
  }
  update(el);
}
