// The host console: the game's controls (always in view), join details, the players (searched and
// paged from the server, never sent whole), the round (rendered by the game's type) and the
// leaderboard. The page is one screen high at any number of players: its panels scroll, not it.

import { leaderboard, podium } from "./board.js";
import { apiUrl, inCloud } from "./endpoints.js";
import { GameSocket } from "./socket.js";
import { laneModule, laneState } from "./lanes.js";
import { inResults, keepsScore, phaseLabel, phaseState, phaseOf, phaseWords, reduce, roundModule, slugOf } from "./types.js";
import {
  announce,
  avatar,
  connectionBanner,
  errorText,
  fill,
  h,
  keys,
  num,
  pageData,
  plural,
  setText,
  store,
  toast,
} from "./ui.js";

const { gameId } = pageData();
const token = store.get(keys.host(gameId));
const $ = (id) => document.getElementById(id);

const PLAYERS_PAGE = 50;
const SEARCH_DEBOUNCE = 250;
const REFRESH_EVERY = 2000; // the players list follows the room's count at most this often

const laneEl = $("lane"); // a type running alongside the rounds (lanes.js)
const els = {
  title: $("title"),
  phase: $("phase"),
  code: $("code"),
  joinUrl: $("join-url"),
  qr: $("qr"),
  lock: $("lock"),
  players: $("players"),
  playersEmpty: $("players-empty"),
  playersStatus: $("players-status"),
  playersPrev: $("players-prev"),
  playersNext: $("players-next"),
  search: $("player-search"),
  count: $("player-count"),
  online: $("online-count"),
  stage: $("stage"),
  controls: $("controls"),
  board: $("board"),
  notice: $("notice"),
  console: $("console"),
  openScreen: $("open-screen"),
};

const screenPath = `/screen/${encodeURIComponent(gameId)}`;
els.qr.src = apiUrl(`/api/games/${encodeURIComponent(gameId)}/qr.svg`);
els.openScreen.addEventListener("click", () => {
  const win = window.open(screenPath, `engagements-screen-${gameId}`);
  if (!win) location.assign(screenPath);
});

function notice(title, text, link) {
  els.console.hidden = true;
  els.notice.hidden = false;
  fill(
    els.notice,
    h(
      "section",
      { class: "card notice" },
      h("h2", null, title),
      h("p", { class: "muted" }, text),
      link ? h("a", { class: "btn primary", href: link.href }, link.label) : null,
    ),
  );
  setText(els.phase, "Offline");
}

let socket = null;

if (!token) {
  notice(
    "This browser isn't the host of this game",
    "The host key is kept in the browser that created the game. Open the console there, or create a new game.",
    { href: "/host", label: "Create a new game" },
  );
} else {
  socket = new GameSocket({ gameId, token, view: "host", reduce });
  socket.on("status", connectionBanner);
  socket.on("error", (e) => toast(errorText(e), "error"));
  socket.on("fatal", (e) => {
    if (e.code === "unauthorized") {
      notice("This game isn't available", "The host key was not accepted — the game may have been removed.", {
        href: "/host",
        label: "Create a new game",
      });
    } else {
      notice("Disconnected", e.message || "The connection was closed.", { href: "/host", label: "New game" });
    }
  });
  socket.on("state", render);
  socket.on("status", (status) => {
    if (status === "open") players.load(); // (re)connected: the list may have moved meanwhile
  });
  socket.start();
}

/** What the round's module may use: reads a page (results) from the server, and sends its type's
 * host commands (a word cloud's `hide`). */
const tools = {
  request: (type, fields) => socket.request(type, fields),
  send: (type, fields) => socket.send(type, fields),
};

// ---- commands ---------------------------------------------------------------------------------

async function command(btn, type, fields = {}, okText = null) {
  if (btn) btn.disabled = true;
  try {
    const ack = await socket.send(type, fields);
    if (okText) toast(okText, "ok", 2000);
    return ack;
  } catch (err) {
    toast(errorText(err), "error");
    return null;
  } finally {
    if (btn && btn.isConnected) btn.disabled = false;
  }
}

els.lock.addEventListener("change", async () => {
  const want = els.lock.checked;
  els.lock.disabled = true;
  try {
    await socket.send("lock", { locked: want });
  } catch (err) {
    els.lock.checked = !want;
    toast(errorText(err), "error");
  } finally {
    els.lock.disabled = false;
  }
});

/** Fetch one of the game's files (`results.csv`, `export.xlsx`, `pack.json`) with the host key, and save it as
 * `<stem>-<join code>.<extension>`. */
async function download(btn, file, stem) {
  btn.disabled = true;
  try {
    const res = await fetch(apiUrl(`/api/games/${encodeURIComponent(gameId)}/${file}`), {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!res.ok) {
      let message = `The server answered ${res.status}.`;
      try {
        message = (await res.json()).error.message || message;
      } catch {
        /* not JSON */
      }
      throw new Error(message);
    }
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const g = socket.state && socket.state.game;
    const a = h("a", { href: url, download: `${stem}-${(g && g.code) || gameId}${file.slice(file.indexOf("."))}`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
  } catch (err) {
    toast(err.code ? errorText(err) : err.message || "The download failed.", "error");
  } finally {
    btn.disabled = false;
  }
}

// ---- the players: searched and paged by the server ----------------------------------------------

const players = {
  query: "",
  offset: 0,
  total: 0,
  shown: [], // the rows of the page on screen
  loadedAt: 0,
  timer: 0,
  debounce: 0,
  seenKey: null,

  /** Read the current page now. */
  load() {
    if (!socket) return;
    clearTimeout(this.timer);
    this.timer = 0;
    this.loadedAt = Date.now();
    const query = this.query;
    const offset = this.offset;
    socket.request("players", { query, offset }).then(
      (reply) => {
        if (!reply) return; // superseded by a newer search
        if (reply.offset > 0 && reply.items.length === 0 && reply.matched > 0) {
          // The page emptied (players left): step back to the last page that has someone.
          this.offset = Math.max(0, Math.floor((reply.matched - 1) / PLAYERS_PAGE) * PLAYERS_PAGE);
          this.load();
          return;
        }
        this.show(reply);
      },
      (err) => {
        if (err.code !== "disconnected") setText(els.playersStatus, errorText(err));
      },
    );
  },

  /** Read it again soon: at most once every REFRESH_EVERY. */
  refreshSoon() {
    if (this.timer) return;
    const wait = Math.max(0, this.loadedAt + REFRESH_EVERY - Date.now());
    this.timer = setTimeout(() => this.load(), wait);
  },

  search(text) {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      if (text === this.query) return;
      this.query = text;
      this.offset = 0;
      this.load();
    }, SEARCH_DEBOUNCE);
  },

  show(reply) {
    this.total = reply.total;
    this.shown = reply.items;
    const finished = socket.state && socket.state.game.phase === "finished";
    const list = h("ul", { class: "player-rows" });
    for (const p of reply.items) {
      list.append(
        h(
          "li",
          { class: ["player-row", p.connected ? "online" : "away"], dataset: { id: p.id } },
          avatar(p.nickname, "avatar-sm"),
          h("span", { class: "player-name" }, p.nickname),
          h(
            "span",
            { class: "player-presence", title: p.connected ? "Connected" : "Away" },
            h("span", { class: "sr-only" }, p.connected ? "connected" : "away"),
          ),
          h("span", { class: "player-score" }, `${num(p.score)} pts`),
          finished
            ? null
            : h(
                "button",
                {
                  type: "button",
                  class: "btn danger small kick",
                  "aria-label": `Kick ${p.nickname}`,
                  onclick: async (e) => {
                    if (!confirm(`Remove ${p.nickname} from the game? They can't come back.`)) return;
                    const ack = await command(e.currentTarget, "kick", { player: p.id }, `${p.nickname} was removed.`);
                    if (ack) this.load();
                  },
                },
                "Kick",
              ),
        ),
      );
    }
    const focused = els.players.contains(document.activeElement);
    fill(els.players, list);
    if (focused) els.players.focus();
    els.playersEmpty.hidden = reply.total > 0;
    setText(
      els.playersEmpty,
      reply.total > 0 ? "" : "Nobody yet. Players join by scanning the QR code.",
    );
    const first = reply.items.length ? reply.offset + 1 : 0;
    const last = reply.offset + reply.items.length;
    let status;
    if (reply.query) {
      status = reply.matched
        ? `Showing ${num(first)}–${num(last)} of ${plural(reply.matched, "match", "matches")} · ${plural(reply.total, "player")}`
        : `No nickname contains “${reply.query}”`;
    } else {
      status = reply.total ? `Showing ${num(first)}–${num(last)} of ${num(reply.total)}` : "";
    }
    setText(els.playersStatus, status);
    if (reply.query && !reply.matched) els.playersEmpty.hidden = true;
    els.playersPrev.disabled = reply.offset <= 0;
    els.playersNext.disabled = last >= reply.matched;
  },
};

els.search.addEventListener("input", () => players.search(els.search.value.trim()));
els.search.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && els.search.value) {
    els.search.value = "";
    players.search("");
  }
});
els.playersPrev.addEventListener("click", () => {
  players.offset = Math.max(0, players.offset - PLAYERS_PAGE);
  players.load();
});
els.playersNext.addEventListener("click", () => {
  players.offset += PLAYERS_PAGE;
  players.load();
});

// ---- rendering --------------------------------------------------------------------------------

let controlsKey = "";
let stageKey = "";
let boardKey = "";

function render() {
  const s = socket.state;
  if (!s) return;
  const g = s.game;
  const roundMod = roundModule(socket, render);

  setText(els.title, g.title || "Untitled game");
  document.title = `${g.title || "Game"} · Host console`;
  setText(els.phase, phaseLabel(g));
  els.phase.dataset.state = phaseState(g);
  document.getElementById("app").dataset.phase = g.phase;
  announce(phaseWords(g, "board"));
  setText(els.code, g.code || "");
  if (g.join_url) {
    setText(els.joinUrl, g.join_url.replace(/^https?:\/\//, ""));
    els.joinUrl.href = g.join_url;
  }
  if (!els.lock.disabled) els.lock.checked = !!g.locked;

  const room = g.room || {};
  const count = room.players || 0;
  setText(els.count, num(count));
  setText(els.online, count ? `${num(room.connected || 0)} connected` : "");
  // The list follows the room's counts (who joined, who is connected: a phone opens its socket after its
  // join) and the scores (which change when results open); refreshSoon paces it in a big room.
  const listKey = `${count}:${room.connected || 0}:${g.phase}`;
  if (players.seenKey !== listKey) {
    const first = players.seenKey === null;
    players.seenKey = listKey;
    if (!first) players.refreshSoon();
  }
  if (!count) els.playersEmpty.hidden = false;

  renderStage(s, roundMod);
  renderControls(s, roundMod);
  renderLane(s);
  const key = `${keepsScore(g)}:${JSON.stringify(g.leaderboard || [])}`;
  if (key !== boardKey) {
    boardKey = key;
    const scored = (g.leaderboard || []).some((row) => row.score > 0);
    fill(
      els.board,
      !keepsScore(g)
        ? h("p", { class: "muted" }, "This kind of game keeps no scores.")
        : scored
          ? leaderboard(g.leaderboard, { limit: 10, cls: "compact" })
          : h("p", { class: "muted" }, "Scores appear here after the first round."),
    );
  }
}

function renderStage(s, roundMod) {
  const g = s.game;
  const room = g.room || {};
  if (g.phase === "lobby") {
    stageKey = "lobby";
    const n = room.players || 0;
    fill(
      els.stage,
      h(
        "div",
        { class: "stage-lobby" },
        h("p", { class: "stage-kicker" }, g.locked ? "Lobby locked" : "Lobby open"),
        h("p", { class: "stage-big" }, plural(n, "player")),
        h(
          "p",
          { class: "muted" },
          n
            ? `${num(room.connected || 0)} connected. Start when everyone is in — ${plural(g.rounds || 0, "prompt")} to play.`
            : "Open the big screen on the projector; players scan its QR code to join.",
        ),
      ),
    );
    return;
  }
  if (g.phase === "finished") {
    const key = `finished:${keepsScore(g)}:${g.synced_at || ""}`;
    if (stageKey !== key) {
      stageKey = key;
      const synced = inCloud
        ? h("p", { class: "sync synced" }, "Saved in the cloud")
        : g.synced_at
          ? h("p", { class: "sync synced" }, `In the cloud since ${new Date(g.synced_at).toLocaleString()}`)
          : h("p", { class: "sync pending" }, "Saved on this appliance · waiting for the next cloud sync");
      fill(
        els.stage,
        h(
          "div",
          { class: "stage-finished" },
          h("p", { class: "stage-kicker" }, "Game over"),
          keepsScore(g) ? podium(g.leaderboard, {}) : h("p", { class: "stage-big" }, "Thanks for taking part!"),
          synced,
          h("p", { class: "muted small" }, "Every prompt's full results: Download results (CSV) above."),
        ),
      );
    }
    return;
  }
  if (stageKey !== `round:${slugOf(g)}`) {
    stageKey = `round:${slugOf(g)}`; // each type renders into a root of its own
    fill(els.stage, h("div", { class: "round-root" }));
  }
  const root = els.stage.firstElementChild;
  if (roundMod) roundMod.renderHost(root, s, tools);
}

/** The lane of a type running alongside the rounds: its queue in a panel beside the round's controls. */
function renderLane(s) {
  const mod = laneModule(s.game, render);
  laneEl.hidden = !mod;
  document.getElementById("console").classList.toggle("has-lane", !!mod);
  if (mod) mod.lane.host(laneEl, laneState(s), tools);
}

function renderControls(s, roundMod) {
  const g = s.game;
  const r = g.round;
  const idx = r ? r.index : -1;
  const last = r ? idx + 1 >= (g.rounds || 0) : false;
  const noPlayers = !(g.room && g.room.players);
  const key = `${g.phase}:${idx}:${last}:${noPlayers}:${!!roundMod}`;
  if (key === controlsKey) return;
  controlsKey = key;

  const btn = (label, cls, onclick, attrs = {}) =>
    h("button", { type: "button", class: ["btn", cls], onclick, ...attrs }, label);
  const endGame = btn(
    "End game",
    "danger",
    (e) => {
      if (!confirm("End the game now and show the podium with the scores as they are?")) return;
      command(e.currentTarget, "end_game");
    },
    { id: "end-game" },
  );
  const skip = btn("Skip prompt", "secondary", (e) => command(e.currentTarget, "skip", { round: idx }), {
    id: "skip",
  });
  const results = btn("Download results (CSV)", "secondary", (e) => download(e.currentTarget, "results.csv", "results"), {
    id: "download",
  });
  // Everything, one sheet each: the game, its rounds, its players, every result (README.md, "Exports").
  const everything = btn("Download everything (.xlsx)", "secondary", (e) => download(e.currentTarget, "export.xlsx", "export"), {
    id: "download-export",
    title: "The game, each round, each player and every result, as a spreadsheet",
  });
  // The questions as a pack, to import into another game (README.md, "Question packs").
  const questions = btn("Download questions", "secondary", (e) => download(e.currentTarget, "pack.json", "questions"), {
    id: "download-pack",
  });
  const parts = [];
  const end = phaseOf(g).end; // the type's button that closes its phase early
  if (g.phase === "lobby") {
    parts.push(
      btn("Start game", "primary big", (e) => command(e.currentTarget, "start"), {
        disabled: noPlayers,
        id: "start",
        title: noPlayers ? "Wait for players to join" : "Start the first prompt",
      }),
      questions,
    );
  } else if (g.phase === "finished") {
    parts.push(
      results,
      everything,
      questions,
      h("a", { class: "btn primary", href: "/host" }, "Host another game"),
      h("a", { class: "btn secondary", href: "/" }, "Home"),
    );
  } else if (inResults(g)) {
    parts.push(
      btn(last ? (keepsScore(g) ? "Show the podium" : "Finish") : "Next prompt", "primary big", (e) => command(e.currentTarget, "next", { round: idx }), {
        id: "next",
      }),
      results,
      endGame,
    );
  } else if (roundMod) {
    const phase = g.phase;
    const endPhase = (e) => command(e.currentTarget, "end_phase", { round: idx, phase });
    parts.push(btn(end || "End this phase now", "primary big", endPhase, { id: "end-phase" }), skip, endGame);
  }
  fill(els.controls, ...parts);
  // The lock matters in the lobby; once the game runs it still keeps latecomers out.
  els.lock.closest(".switch").hidden = g.phase === "finished";
}
