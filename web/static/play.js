// The player's phone: the lobby, the rounds (rendered by the game's type) and the final standing.

import { leaderboard, podium } from "./board.js";
import { laneModule, laneState } from "./lanes.js";
import { GameSocket } from "./socket.js";
import { keepsScore, phaseOf, phaseWords, reduce, roundModule, slugOf } from "./types.js";
import {
  announce,
  avatar,
  connectionBanner,
  errorText,
  fill,
  h,
  keys,
  num,
  ordinal,
  pageData,
  plural,
  rankOf,
  setText,
  store,
  toast,
} from "./ui.js";

const { gameId } = pageData();
const token = store.get(keys.player(gameId));
const stage = document.getElementById("stage");
const meEl = document.getElementById("me");
const titleEl = document.getElementById("title");
const scoreEl = document.getElementById("score");
const lane = {
  open: document.getElementById("lane-open"),
  label: document.getElementById("lane-label"),
  count: document.getElementById("lane-count"),
  el: document.getElementById("lane"),
  title: document.getElementById("lane-title"),
  close: document.getElementById("lane-close"),
  root: document.getElementById("lane-root"),
  actions: null, // the lane's commands, once its module is here
};

/** The join code this phone used for the game, if it remembers one. */
function knownCode() {
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k && k.startsWith("engagements:code:") && localStorage.getItem(k) === gameId) {
        return k.slice("engagements:code:".length);
      }
    }
  } catch {
    /* ignore */
  }
  return null;
}

function notice(title, text, link) {
  fill(
    stage,
    h(
      "div",
      { class: "card center notice" },
      h("h2", null, title),
      h("p", { class: "muted" }, text),
      link ? h("a", { class: "btn primary big block", href: link.href }, link.label) : null,
    ),
  );
}

let socket = null;
const actionsOf = new Map(); // round module -> the player's commands it gives (a mixed game has several)

if (!token) {
  const code = knownCode();
  notice(
    "You're not in this game yet",
    "Join with the code on the big screen and pick a nickname.",
    { href: code ? `/j/${encodeURIComponent(code)}` : "/", label: "Join the game" },
  );
} else {
  socket = new GameSocket({ gameId, token, view: "player", reduce });
  socket.on("status", connectionBanner);
  socket.on("error", (e) => toast(errorText(e), "error"));
  socket.on("fatal", onFatal);
  socket.on("state", render);
  socket.on("event", (msg) => {
    // A little buzz when there is something new to do.
    // Browsers refuse (and log) a vibration before the page was ever touched: only ask after that.
    const touched = navigator.userActivation?.hasBeenActive ?? true;
    if (msg.type === "phase_changed" && phaseOf(socket.state.game).buzz && touched) navigator.vibrate?.(60);
    if (msg.type === "phase_changed") showLane(false); // a new phase's controls are never left covered
  });
  socket.start();
  lane.open.addEventListener("click", () => showLane(true));
  lane.close.addEventListener("click", () => showLane(false));
}

/** Open or close the lane's drawer (what was typed there stays: its DOM is only hidden). */
function showLane(open) {
  if (lane.el.hidden === !open) return;
  lane.el.hidden = !open;
  lane.open.setAttribute("aria-expanded", String(open));
  if (socket && socket.state) render();
  (open ? lane.close : lane.open).focus({ preventScroll: true });
}

/** The lane of a type running alongside the rounds: a button in the header, its view in the drawer. */
function renderLane(s) {
  const g = s.game;
  const mod = g.phase === "finished" ? null : laneModule(g, render);
  lane.open.hidden = !mod;
  if (!mod) {
    lane.el.hidden = true;
    return;
  }
  if (!lane.actions) {
    const ctx = {
      send: (type, fields) => socket.send(type, fields),
      sync: () => socket.sync(),
      state: () => laneState(socket.state),
      refresh: render,
    };
    lane.actions = mod.commands?.(ctx) ?? {};
  }
  setText(lane.label, mod.lane.label);
  setText(lane.title, mod.lane.label);
  setText(lane.count, mod.lane.badge ? num(mod.lane.badge(g.lane)) : "");
  if (!lane.el.hidden) mod.lane.player(lane.root, laneState(s), lane.actions);
}

function onFatal(e) {
  const code = knownCode();
  scoreEl.hidden = true;
  if (e.code === "kicked") {
    notice("You've been removed", "The host removed you from this game.", { href: "/", label: "Back to the start" });
    return;
  }
  // The token no longer opens the game: forget it, so joining again starts fresh.
  store.remove(keys.player(gameId));
  if (code) store.remove(keys.code(code));
  notice(
    "Your seat in this game is gone",
    "The game may have ended or been reset. You can join again with the code on the big screen.",
    { href: code ? `/j/${encodeURIComponent(code)}` : "/", label: "Join again" },
  );
}

let view = { key: "", refs: null };
function mountView(key, build) {
  if (view.key !== key) {
    const refs = {};
    fill(stage, build(refs));
    view = { key, refs };
  }
  return view.refs;
}

function myStanding(s) {
  const me = s.you && s.you.player;
  if (!me) return null;
  const row = (s.game.leaderboard || []).find((x) => x.id === me.id);
  return { ...me, score: me.score ?? row?.score ?? 0, rank: me.rank ?? row?.rank ?? null };
}

/** The room's size: `room.players` (never a list of them). */
function roomSize(g) {
  return (g.room && g.room.players) || 0;
}

function render() {
  const s = socket.state;
  if (!s) return;
  const g = s.game;
  const roundMod = roundModule(socket, render);
  if (roundMod && !actionsOf.has(roundMod)) {
    const ctx = {
      send: (type, fields) => socket.send(type, fields),
      sync: () => socket.sync(),
      state: () => socket.state,
      refresh: render,
    };
    actionsOf.set(roundMod, roundMod.commands?.(ctx) ?? {});
  }
  const me = myStanding(s);
  document.title = `${g.title || "Game"} · Engagements`;
  setText(titleEl, g.title || "");
  if (me) {
    if (meEl.dataset.nick !== me.nickname) {
      meEl.dataset.nick = me.nickname;
      fill(meEl, avatar(me.nickname, "avatar-sm"), h("span", { class: "me-name" }, me.nickname));
    }
    scoreEl.hidden = g.phase === "lobby" || !keepsScore(g);
    // A rank means something once a round has been scored.
    const scored = (g.leaderboard || []).some((row) => row.score > 0);
    setText(scoreEl, me.rank && scored ? `${num(me.score)} pts · #${num(me.rank)}` : `${num(me.score)} pts`);
  }
  document.body.dataset.phase = g.phase;
  announce(phaseWords(g, "player"));
  renderLane(s);

  if (g.phase === "lobby") renderLobby(s, me);
  else if (g.phase === "finished") renderFinished(s, me);
  else {
    // Each type renders into a root of its own: a round of another type starts from an empty one.
    mountView(`round:${slugOf(g)}`, () => h("div", { class: "round-root" }));
    if (roundMod) roundMod.renderPlayer(stage.firstElementChild, s, actionsOf.get(roundMod));
  }
}

function renderLobby(s, me) {
  const g = s.game;
  const refs = mountView("lobby", (refs) => {
    refs.count = h("span");
    refs.hint = h("p", { class: "muted" });
    return h(
      "section",
      { class: "play-lobby" },
      me ? avatar(me.nickname, "avatar-xxl") : null,
      h("p", { class: "play-kicker" }, "You're in!"),
      h("h1", { class: "play-nick" }, me ? me.nickname : ""),
      h("p", { class: "lead" }, "Watch the big screen — the game starts soon."),
      h("div", { class: "play-pill" }, refs.count),
      refs.hint,
    );
  });
  setText(refs.count, `${plural(roomSize(g), "player")} in the lobby`);
  setText(refs.hint, g.locked ? "The host locked the lobby. Get ready!" : "Tell your friends to scan the QR code.");
}

function renderFinished(s, me) {
  const g = s.game;
  const scored = keepsScore(g);
  const key = `finished:${scored}:${JSON.stringify(g.leaderboard || [])}:${me ? `${me.rank}:${me.score}` : ""}`;
  mountView(key, () => {
    if (!scored) {
      return h(
        "section",
        { class: "play-final" },
        h("p", { class: "play-kicker" }, "Game over"),
        h("h1", { class: "play-rank" }, "Thanks for taking part!"),
        h("a", { class: "btn secondary block", href: "/" }, "Done"),
      );
    }
    const total = roomSize(g);
    const rank = me && me.rank;
    return h(
      "section",
      { class: ["play-final", rank && rank <= 3 && `place-${rank}`] },
      h(
        "div",
        { class: ["medal", rank && rank <= 3 ? `medal-${rank}` : "medal-other"], "aria-hidden": "true" },
        rank ? String(rank) : "★",
      ),
      h("p", { class: "play-kicker" }, "Game over"),
      rank
        ? h(
            "h1",
            { class: "play-rank", dataset: { rank: String(rank) } },
            rank === 1 ? "You won!" : `You finished ${ordinal(rank)}`,
          )
        : h("h1", { class: "play-rank" }, "Thanks for playing!"),
      h(
        "p",
        { class: "lead" },
        `${num(me ? me.score : 0)} points${rank ? ` · ${rankOf(rank, total)}` : ""}`,
      ),
      podium(g.leaderboard, { me: me && me.id }),
      h("h2", { class: "card-title" }, "Leaderboard"),
      leaderboard(g.leaderboard, { me: me && me.id, limit: 10, cls: "compact" }),
      h("a", { class: "btn secondary block", href: "/" }, "Done"),
    );
  });
}
