// The admin's webhooks page (/admin/webhooks): add one (its secret shown once), send a test event, remove
// one, and each webhook's delivery log: the latest deliveries with their status, attempts and next retry.

import { adminApi, signedIn } from "./admin.js";
import { h, setText, toast } from "./ui.js";

const form = document.getElementById("hook-form");
const urlIn = document.getElementById("hook-url");
const errEl = form.querySelector(".form-error");
const secretBox = document.getElementById("hook-secret");
const secretValue = document.getElementById("hook-secret-value");
const list = document.getElementById("hooks");
const empty = document.getElementById("hooks-empty");
const REFRESH_MS = 5000;

const STATUS = { pending: "Retrying", delivered: "Delivered", failed: "Gave up" };

function when(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleString([], { dateStyle: "short", timeStyle: "medium" });
}

function showError(text) {
  setText(errEl, text || "");
  errEl.hidden = !text;
}

function deliveryRow(d) {
  const answer = d.last_status ? `HTTP ${d.last_status}` : d.last_error || (d.attempts ? "" : "not tried yet");
  return h(
    "tr",
    {},
    h("td", {}, when(d.created_at)),
    h("td", {}, d.event),
    h("td", {}, h("span", { class: ["hook-status", d.status] }, STATUS[d.status] || d.status)),
    h("td", { class: "num" }, String(d.attempts)),
    h("td", { class: "hook-answer", title: d.last_error || "" }, answer),
    h("td", {}, d.status === "pending" ? when(d.next_at) : ""),
  );
}

function log(hook) {
  if (!hook.deliveries.length) return h("p", { class: "muted small" }, "Nothing sent yet.");
  return h(
    "div",
    { class: "hook-log-wrap" },
    h(
      "table",
      { class: "hook-log" },
      h("caption", { class: "sr-only" }, `Latest deliveries to ${hook.url}`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["Made", "Event", "Status", "Attempts", "Last answer", "Next attempt"].map((t) =>
            h("th", { scope: "col" }, t),
          ),
        ),
      ),
      h("tbody", {}, ...hook.deliveries.map(deliveryRow)),
    ),
  );
}

function item(hook) {
  const test = h("button", { type: "button", class: "btn secondary small" }, "Send test event");
  const remove = h("button", { type: "button", class: "btn danger ghost small" }, "Remove");
  test.addEventListener("click", async () => {
    test.disabled = true;
    try {
      await adminApi(`/api/webhooks/${hook.id}/test`, { method: "POST" });
      toast("Test event queued: its delivery shows below.");
      await load();
    } catch (err) {
      toast(err.message, "error");
    } finally {
      test.disabled = false;
    }
  });
  remove.addEventListener("click", async () => {
    if (!confirm(`Stop sending events to ${hook.url}?`)) return;
    try {
      await adminApi(`/api/webhooks/${hook.id}`, { method: "DELETE" });
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  });
  return h(
    "li",
    { class: "hook" },
    h(
      "div",
      { class: "hook-head" },
      h("span", { class: "hook-url", title: hook.url }, hook.url),
      h("span", { class: "hook-actions" }, test, remove),
    ),
    h("p", { class: "muted small" }, `${hook.id} · added ${when(hook.created_at)}`),
    log(hook),
  );
}

async function load() {
  try {
    const { webhooks } = await adminApi("/api/webhooks");
    list.replaceChildren(...webhooks.map(item));
    empty.hidden = webhooks.length > 0;
  } catch (err) {
    if (err.status !== 401) toast(err.message, "error");
  }
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  showError("");
  const url = urlIn.value.trim();
  if (!url) {
    showError("Type the receiver's URL.");
    return;
  }
  try {
    const made = await adminApi("/api/webhooks", { method: "POST", body: { url } });
    setText(secretValue, made.secret);
    secretBox.hidden = false;
    urlIn.value = "";
    await load();
  } catch (err) {
    showError(err.message);
  }
});
urlIn.addEventListener("input", () => showError(""));

signedIn.then(() => {
  load();
  setInterval(load, REFRESH_MS);
});
