// Past games (/history): for the admin, every finished game by time, a page at a time (GET /api/history);
// for anyone, the games this browser hosted (their host keys are kept here), each read with its own key.

import { adminApi, signedIn } from "./admin.js";
import { inCloud } from "./endpoints.js";
import { api, h, keys, store } from "./ui.js";

const list = document.getElementById("history-list");
const empty = document.getElementById("history-empty");
const more = document.getElementById("history-more");
const mine = document.getElementById("mine");
const mineList = document.getElementById("mine-list");

export function when(value) {
  if (!value) return "";
  return new Date(value).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function origin(game) {
  if (!game.synced_at) return inCloud ? h("span", { class: "sync synced" }, "Hosted in the cloud") : h("span");
  const text = inCloud ? "Synced" : "In the cloud";
  return h("span", { class: "sync synced", title: `Synced ${when(game.synced_at)}` }, text);
}

function row(game) {
  return h(
    "li",
    { class: "game-row", dataset: { game: game.id } },
    h("span", { class: "pill", "data-state": "finished" }, "Finished"),
    h("a", { class: "game-title", href: `/history/${encodeURIComponent(game.id)}` }, game.title),
    h("span", { class: "muted small" }, when(game.finished_at || game.created_at)),
    origin(game),
  );
}

let after = null;

async function page() {
  more.disabled = true;
  try {
    const query = new URLSearchParams({ limit: "25", ...(after ? { after } : {}) });
    const found = await adminApi(`/api/history?${query}`);
    list.append(...found.games.map(row));
    after = found.next;
    empty.hidden = list.children.length > 0;
    more.hidden = !after;
  } finally {
    more.disabled = false;
  }
}

/** The games whose host key this browser keeps (it hosted them), newest first. */
async function hostedHere() {
  const ids = store
    .names()
    .filter((name) => name.startsWith(keys.host("")))
    .map((name) => name.slice(keys.host("").length));
  const read = await Promise.all(
    ids.map((id) =>
      api(`/api/games/${encodeURIComponent(id)}/history`, { headers: { Authorization: `Bearer ${store.get(keys.host(id))}` } })
        .then((found) => found.game)
        .catch(() => null),
    ),
  );
  const games = read.filter((g) => g && g.status === "finished");
  games.sort((a, b) => String(b.finished_at).localeCompare(String(a.finished_at)));
  mineList.replaceChildren(...games.map(row));
  mine.hidden = games.length === 0;
}

more.addEventListener("click", page);
hostedHere();
signedIn.then(page);
