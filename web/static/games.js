// "Games on this appliance": live games to get back to, finished ones with their cloud-sync state.

import { adminApi, signedIn } from "./admin.js";
import { inCloud } from "./endpoints.js";
import { h, keys, setText, store } from "./ui.js";

const section = document.getElementById("games");
const list = document.getElementById("games-list");

const STATUS = { lobby: "Lobby", playing: "Playing", finished: "Finished" };

function when(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function syncState(game) {
  if (game.status !== "finished" || inCloud) return null; // the cloud's games are in the cloud already
  return game.synced_at
    ? h("span", { class: "sync synced", title: `Verified in the cloud ${when(game.synced_at)}` }, "In the cloud")
    : h("span", { class: "sync pending", title: "Goes up with the next cloud sync" }, "Waiting for cloud sync");
}

function row(game) {
  const mine = store.get(keys.host(game.id));
  const title = mine ? h("a", { href: `/host/${game.id}` }, game.title) : h("span", {}, game.title);
  return h(
    "li",
    { class: "game-row" },
    h("span", { class: "pill", "data-state": game.status === "playing" ? "live" : game.status }, STATUS[game.status]),
    h("span", { class: "game-title" }, title),
    h("span", { class: "muted small" }, when(game.finished_at || game.created_at)),
    syncState(game) || h("span"),
  );
}

async function load() {
  try {
    const { games } = await adminApi("/api/games");
    list.replaceChildren(...games.map(row));
    section.hidden = games.length === 0;
  } catch (err) {
    setText(list, "");
    section.hidden = true;
  }
}

signedIn.then(() => {
  load();
  setInterval(load, 15000);
});
