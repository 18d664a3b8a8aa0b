// The big screen for the projector: lobby with the QR code, the rounds (rendered by the game's
// type), the leaderboard after each round and the final podium.

import { leaderboard, NameChips, podium } from "./board.js";
import { apiUrl } from "./endpoints.js";
import { GameSocket } from "./socket.js";
import { laneModule, laneState } from "./lanes.js";
import { inResults, keepsScore, phaseWords, reduce, roundModule, slugOf } from "./types.js";
import {
  announce,
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
const stage = document.getElementById("stage");
const titleEl = document.getElementById("title");
const corner = document.getElementById("corner");
const laneEl = document.getElementById("lane"); // a type running alongside the rounds (lanes.js)

// ---- projector niceties: full screen, hide the idle cursor ------------------------------------

const fsBtn = document.getElementById("fullscreen");
function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen?.();
  else document.documentElement.requestFullscreen?.().catch(() => {});
}
fsBtn.addEventListener("click", toggleFullscreen);
document.addEventListener("keydown", (e) => {
  if ((e.key === "f" || e.key === "F") && !e.ctrlKey && !e.metaKey && !e.altKey) toggleFullscreen();
});
let idleTimer = 0;
function wake() {
  document.body.classList.remove("idle");
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add("idle"), 3000);
}
document.addEventListener("mousemove", wake);
wake();

// ---- the socket -------------------------------------------------------------------------------

function notice(title, text) {
  fill(
    stage,
    h(
      "div",
      { class: "screen-notice" },
      h("h1", null, title),
      h("p", null, text),
    ),
  );
}

let socket = null;

if (!token) {
  notice(
    "Open the big screen from the host console",
    "This browser doesn't hold the host key for this game. On the host's laptop, press “Open big screen” in the console.",
  );
} else {
  socket = new GameSocket({ gameId, token, view: "screen", reduce });
  socket.on("status", connectionBanner);
  socket.on("error", (e) => toast(errorText(e), "error"));
  socket.on("fatal", (e) =>
    notice("This game isn't available", e.code === "unauthorized" ? "The host key was not accepted." : e.message),
  );
  socket.on("state", render);
  socket.start();
}

// ---- rendering --------------------------------------------------------------------------------

let view = { key: "", refs: null };

function mountView(key, build) {
  if (view.key !== key) {
    const refs = {};
    const el = build(refs);
    fill(stage, el);
    view = { key, refs };
  }
  return view.refs;
}

function render() {
  const s = socket.state;
  if (!s) return;
  const g = s.game;
  const roundMod = roundModule(socket, render);
  setText(titleEl, g.title || "");
  document.title = `${g.title || "Game"} · Big screen`;
  document.body.dataset.phase = g.phase;
  announce(phaseWords(g, "board"));

  const playing = g.phase !== "lobby" && g.phase !== "finished";
  corner.hidden = !playing || g.locked;
  setText(corner, `Join: ${g.code}`);

  if (g.phase === "lobby") renderLobby(g);
  else if (g.phase === "finished") renderFinished(g);
  else renderRound(s, roundMod);
  const laneMod = g.phase === "finished" ? null : laneModule(g, render); // the podium keeps the screen
  laneEl.hidden = !(laneMod && laneMod.lane.screen(laneEl, laneState(s)));
}

function codeLetters(code) {
  return h(
    "div",
    { class: "lobby-code", "aria-label": `Game code ${code}` },
    [...String(code || "")].map((ch) => h("span", null, ch)),
  );
}

function renderLobby(g) {
  const refs = mountView("lobby", (refs) => {
    refs.chips = new NameChips({ cls: "chips-screen" });
    refs.count = h("span", { class: "lobby-count-n" });
    refs.countWord = h("span", { class: "lobby-count-word" });
    refs.hint = h("p", { class: "lobby-hint" });
    refs.code = h("div");
    refs.url = h("div", { class: "lobby-url" });
    refs.empty = h("p", { class: "lobby-empty" }, "Waiting for the first player…");
    return h(
      "div",
      { class: "lobby" },
      h(
        "div",
        { class: "lobby-join" },
        h(
          "div",
          { class: "qr-card" },
          h("img", {
            src: apiUrl(`/api/games/${encodeURIComponent(gameId)}/qr.svg`),
            alt: "QR code: scan it to join the game",
            class: "qr-img",
          }),
        ),
        h("p", { class: "lobby-code-label" }, "Scan to join, or enter the code"),
        refs.code,
        refs.url,
      ),
      h(
        "div",
        { class: "lobby-room" },
        h("p", { class: "lobby-kicker" }, "Get your phones out!"),
        h("h1", { class: "lobby-title" }, g.title || "Let's play"),
        h("h2", { class: "lobby-players-title" }, refs.count, refs.countWord),
        refs.empty,
        refs.chips.el,
        refs.hint,
      ),
    );
  });
  const room = g.room || {};
  const players = room.players || 0;
  fill(refs.code, codeLetters(g.code));
  setText(refs.url, g.join_url || "");
  setText(refs.count, num(players));
  setText(refs.countWord, players === 1 ? " player in" : " players in");
  refs.empty.hidden = players > 0;
  refs.chips.el.hidden = players === 0;
  refs.chips.update(room.recent || []);
  setText(
    refs.hint,
    g.locked
      ? "The lobby is locked — the game starts soon."
      : players
        ? `${plural(players, "player")} in · waiting for the host to start`
        : "Point your phone's camera at the QR code.",
  );
  refs.hint.classList.toggle("locked", !!g.locked);
}

function renderRound(s, roundMod) {
  const g = s.game;
  const r = g.round;
  const refs = mountView(`round:${slugOf(g)}`, (refs) => {
    refs.round = h("div", { class: "round-root" });
    refs.board = h("aside", { class: "screen-board", "aria-label": "Leaderboard" });
    return h("div", { class: "screen-round" }, refs.round, refs.board);
  });
  if (roundMod) roundMod.renderScreen(refs.round, s);
  const showBoard = inResults(g) && keepsScore(g);
  const boardKey = showBoard ? `results:${r ? r.index : -1}` : "";
  if (refs.boardKey !== boardKey) {
    refs.boardKey = boardKey;
    refs.board.parentElement.classList.toggle("with-board", showBoard);
    if (showBoard) {
      // The leaderboard joins the round's results once the type has revealed them.
      const after = roundMod?.revealSeconds?.(r) ?? 0;
      refs.board.style.setProperty("--after", `${after.toFixed(2)}s`);
      fill(refs.board, h("h2", { class: "board-title" }, "Leaderboard"), leaderboard(g.leaderboard, { limit: 8 }));
    } else {
      fill(refs.board);
    }
  }
}

function confetti() {
  const colors = ["#a78bfa", "#22d3ee", "#f472b6", "#fcd34d", "#34d399", "#fb923c"];
  const layer = h("div", { class: "confetti", "aria-hidden": "true" });
  for (let i = 0; i < 70; i++) {
    layer.append(
      h("i", {
        style: {
          left: `${Math.random() * 100}%`,
          background: colors[i % colors.length],
          animationDelay: `${(Math.random() * 4).toFixed(2)}s`,
          animationDuration: `${(4 + Math.random() * 4).toFixed(2)}s`,
          transform: `rotate(${Math.floor(Math.random() * 360)}deg)`,
        },
      }),
    );
  }
  return layer;
}

function renderFinished(g) {
  const scored = keepsScore(g);
  const key = `finished:${scored}:${JSON.stringify(g.leaderboard || [])}`;
  mountView(key, () => {
    if (!scored) {
      return h(
        "div",
        { class: "finale" },
        h("div", { class: "finale-kicker" }, g.title || "Final results"),
        h("h1", { class: "finale-title" }, "Thanks for taking part!"),
      );
    }
    const rest = (g.leaderboard || []).slice(3);
    const winners = (g.leaderboard || []).filter((x) => x.rank === 1);
    return h(
      "div",
      { class: "finale" },
      confetti(),
      h("div", { class: "finale-kicker" }, g.title || "Final results"),
      h(
        "h1",
        { class: "finale-title" },
        winners.length
          ? `${winners.map((w) => w.nickname).join(" & ")} ${winners.length > 1 ? "win" : "wins"}!`
          : "Thanks for playing!",
      ),
      podium(g.leaderboard),
      rest.length ? leaderboard(rest, { limit: 7, cls: "finale-rest" }) : null,
    );
  });
}
