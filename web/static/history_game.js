// A past game (/history/<id>): its podium, downloads and rounds, each round's results a page at a time
// (GET /api/games/<id>/history and /api/games/<id>/rounds/<n>/results), never a whole round at once.
// The key that opens it: the host key this browser kept when it hosted the game, one given after
// "#host=" in a link (browsers never send what follows "#"), the admin secret kept at sign-in, or one
// typed into the form. Keys travel only in the Authorization header.

import { podium } from "./board.js";
import { apiUrl, inCloud } from "./endpoints.js";
import { api, h, keys, pageData, setText, store, toast } from "./ui.js";

const { gameId } = pageData();
const base = `/api/games/${encodeURIComponent(gameId)}`;
const PAGE = 25;
const NAMES = {
  "results.csv": "Results (CSV)",
  "export.xlsx": "Everything (.xlsx)",
  "export.zip": "Everything (CSV files, .zip)",
  "export.json": "Everything (JSON)",
};

const form = document.getElementById("key-form");
const keyIn = document.getElementById("key");
const formError = form.querySelector(".form-error");
const area = document.getElementById("history");
const forget = document.getElementById("forget");

const fromLink = new URLSearchParams(location.hash.slice(1)).get("host");
if (fromLink) {
  store.set(keys.host(gameId), fromLink);
  history.replaceState(null, "", location.pathname + location.search);
}

let key = null;

function read(path) {
  return api(path, { headers: { Authorization: `Bearer ${key}` } });
}

function when(value) {
  return value ? new Date(value).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "";
}

function showError(text) {
  setText(formError, text || "");
  formError.hidden = !text;
}

/** Tries the kept keys in turn; shows the form when none opens the game. */
async function open() {
  for (const candidate of [store.get(keys.host(gameId)), store.get(keys.admin)].filter(Boolean)) {
    key = candidate;
    try {
      show(await read(`${base}/history`));
      return;
    } catch (err) {
      if (err.status !== 401) {
        form.hidden = false;
        showError(err.message);
        return;
      }
    }
  }
  key = null;
  form.hidden = false;
  keyIn.focus();
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const typed = keyIn.value.trim();
  if (!typed) return showError("Type the host key or the admin secret.");
  key = typed;
  try {
    const found = await read(`${base}/history`);
    store.set(typed.startsWith(`${gameId}.`) ? keys.host(gameId) : keys.admin, typed);
    keyIn.value = "";
    show(found);
  } catch (err) {
    showError(err.status === 401 ? "That key does not open this game." : err.message);
  }
});
keyIn.addEventListener("input", () => showError(""));
forget.addEventListener("click", () => {
  store.remove(keys.host(gameId));
  if (key === store.get(keys.admin)) store.remove(keys.admin);
  location.reload();
});

function show(found) {
  const { game } = found;
  form.hidden = true;
  area.hidden = false;
  forget.hidden = false;
  document.title = `${game.title} · Past game · Engagements`;
  setText(document.getElementById("title"), game.title);
  const facts = [
    game.finished_at ? `Finished ${when(game.finished_at)}` : `Created ${when(game.created_at)}`,
    `${game.players} ${game.players === 1 ? "player" : "players"}`,
    game.synced_at ? `synced ${when(game.synced_at)}` : inCloud ? "hosted in the cloud" : "",
  ].filter(Boolean);
  document.getElementById("summary").replaceChildren(`${facts.join(" · ")}. `, h("a", { href: "/history" }, "All past games"));
  const stage = document.getElementById("podium");
  stage.replaceChildren(found.podium.length ? podium(found.podium) : h("p", { class: "muted" }, "No round of this game gave points."));
  document.getElementById("files").replaceChildren(
    ...found.files.map((file) => h("button", { type: "button", class: "btn secondary", onclick: (e) => download(e.currentTarget, file) }, NAMES[file] || file)),
  );
  offerCloudKey(game);
  document.getElementById("rounds").replaceChildren(...found.rounds.map(roundItem));
}

/** On the appliance, a synced game's host key, to open its history in the cloud's pages. */
function offerCloudKey(game) {
  const box = document.getElementById("cloud-key");
  box.hidden = inCloud || !game.synced_at || key !== store.get(keys.host(gameId));
  document.getElementById("copy-key").onclick = async () => {
    try {
      await navigator.clipboard.writeText(key);
      toast("The host key is copied.", "good");
    } catch {
      // Plain http on a LAN address is no secure context: no clipboard. Show it to select by hand.
      box.append(h("input", { class: "input", readonly: true, value: key, "aria-label": "Host key", onfocus: (e) => e.target.select() }));
    }
  };
}

function roundItem(round) {
  const results = h("div", { class: "history-results" });
  const toggle = h(
    "button",
    { type: "button", class: "btn ghost small", "aria-expanded": "false", onclick: () => showResults(round, results, toggle, 0) },
    `Show results (${round.result_rows})`,
  );
  toggle.disabled = round.result_rows === 0;
  return h(
    "li",
    { class: "history-round", dataset: { round: String(round.round) } },
    h("div", { class: "history-round-head" }, h("span", { class: "history-prompt" }, round.prompt), h("span", { class: "muted small" }, `${round.outcome} · ${round.players} ${round.players === 1 ? "player" : "players"}`), toggle),
    results,
  );
}

/** One page of a round's results as a table, with its pager. */
async function showResults(round, box, toggle, offset) {
  toggle.setAttribute("aria-expanded", "true");
  let found;
  try {
    found = await read(`${base}/rounds/${round.round}/results?offset=${offset}&limit=${PAGE}`);
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  const columns = [...new Set(found.results.flatMap((row) => Object.keys(row)))].filter((c) => c !== "prompt");
  const table = h(
    "table",
    { class: "history-table" },
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...found.results.map((row) => h("tr", {}, ...columns.map((c) => h("td", {}, row[c] == null ? "" : String(row[c])))))),
  );
  const last = found.offset + found.results.length;
  const pager = h(
    "div",
    { class: "history-pager" },
    h("span", { class: "muted small" }, `${found.offset + 1}–${last} of ${found.total}`),
    found.offset > 0 ? h("button", { type: "button", class: "btn ghost small", onclick: () => showResults(round, box, toggle, Math.max(0, found.offset - PAGE)) }, "Previous") : "",
    found.next != null ? h("button", { type: "button", class: "btn ghost small", onclick: () => showResults(round, box, toggle, found.next) }, "Next") : "",
  );
  box.replaceChildren(h("div", { class: "history-scroll" }, table), pager);
}

/** A download with the key in its header (a link could not carry it), saved as `<file>` named for the game. */
async function download(button, file) {
  button.disabled = true;
  try {
    const res = await fetch(apiUrl(`${base}/${file}`), { headers: { Authorization: `Bearer ${key}` } });
    if (!res.ok) throw new Error(`The server answered ${res.status}.`);
    const url = URL.createObjectURL(await res.blob());
    const [stem, ext] = file.split(".");
    const a = h("a", { href: url, download: `${stem}-${gameId}.${ext}`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
  } catch (err) {
    toast(err.message || "The download failed.", "error");
  } finally {
    button.disabled = false;
  }
}

open();
