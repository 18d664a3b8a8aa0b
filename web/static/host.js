// The host console: join details, players (kick), lobby lock, and the game's controls.

import { leaderboard, PlayerChips, podium } from "./board.js";
import { GameSocket } from "./socket.js";
import { loadType } from "./types.js";
import {
  connectionBanner,
  errorText,
  fill,
  h,
  keys,
  PHASE_LABELS,
  pageData,
  plural,
  setText,
  store,
  toast,
} from "./ui.js";

const { gameId } = pageData();
const token = store.get(keys.host(gameId));
const $ = (id) => document.getElementById(id);

const els = {
  title: $("title"),
  phase: $("phase"),
  code: $("code"),
  joinUrl: $("join-url"),
  qr: $("qr"),
  lock: $("lock"),
  players: $("players"),
  playersEmpty: $("players-empty"),
  count: $("player-count"),
  stage: $("stage"),
  controls: $("controls"),
  board: $("board"),
  notice: $("notice"),
  console: $("console"),
  openScreen: $("open-screen"),
};

const screenPath = `/screen/${encodeURIComponent(gameId)}`;
els.qr.src = `/api/games/${encodeURIComponent(gameId)}/qr.svg`;
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
let roundMod = null;

if (!token) {
  notice(
    "This browser isn't the host of this game",
    "The host key is kept in the browser that created the game. Open the console there, or create a new game.",
    { href: "/host", label: "Create a new game" },
  );
} else {
  socket = new GameSocket({ gameId, token, view: "host" });
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
  socket.start();
}

// ---- commands ---------------------------------------------------------------------------------

async function command(btn, type, fields = {}, okText = null) {
  if (btn) btn.disabled = true;
  try {
    await socket.send(type, fields);
    if (okText) toast(okText, "ok", 2000);
  } catch (err) {
    toast(errorText(err), "error");
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

const chips = new PlayerChips({
  cls: "chips-host",
  extra: (p) =>
    h(
      "button",
      {
        class: "chip-kick",
        type: "button",
        title: `Remove ${p.nickname}`,
        "aria-label": `Remove ${p.nickname}`,
        onclick: (e) => {
          if (!confirm(`Remove ${p.nickname} from the game? They can't come back.`)) return;
          command(e.currentTarget, "kick", { player: p.id }, `${p.nickname} was removed.`);
        },
      },
      "✕",
    ),
});
els.players.append(chips.el);

// ---- rendering --------------------------------------------------------------------------------

let controlsKey = "";
let stageKey = "";

function render() {
  const s = socket.state;
  if (!s) return;
  const g = s.game;
  if (!roundMod) {
    loadType(g.type).then((m) => {
      roundMod = m;
      render();
    });
  }

  setText(els.title, g.title || "Untitled game");
  document.title = `${g.title || "Game"} · Host console`;
  setText(els.phase, PHASE_LABELS[g.phase] || g.phase);
  els.phase.dataset.phase = g.phase;
  document.getElementById("app").dataset.phase = g.phase;
  setText(els.code, g.code || "");
  if (g.join_url) {
    setText(els.joinUrl, g.join_url.replace(/^https?:\/\//, ""));
    els.joinUrl.href = g.join_url;
  }
  if (!els.lock.disabled) els.lock.checked = !!g.locked;

  chips.update(g.players);
  setText(els.count, String(g.players.length));
  els.playersEmpty.hidden = g.players.length > 0;

  renderStage(s);
  renderControls(s);
  const scored = (g.leaderboard || []).some((row) => row.score > 0);
  fill(
    els.board,
    scored
      ? leaderboard(g.leaderboard, { limit: 10, cls: "compact" })
      : h("p", { class: "muted" }, "Scores appear here after the first round's vote."),
  );
}

function renderStage(s) {
  const g = s.game;
  if (g.phase === "lobby") {
    stageKey = "lobby";
    const online = g.players.filter((p) => p.connected !== false).length;
    fill(
      els.stage,
      h(
        "div",
        { class: "stage-lobby" },
        h("div", { class: "stage-kicker" }, g.locked ? "Lobby locked" : "Lobby open"),
        h("div", { class: "stage-big" }, plural(g.players.length, "player")),
        h(
          "p",
          { class: "muted" },
          g.players.length
            ? `${online} connected. Start when everyone is in — ${plural(g.rounds || 0, "prompt")} to play.`
            : "Open the big screen on the projector; players scan its QR code to join.",
        ),
      ),
    );
    return;
  }
  if (g.phase === "finished") {
    const key = `finished:${g.synced_at || ""}`;
    if (stageKey !== key) {
      stageKey = key;
      const synced = g.synced_at
        ? h("p", { class: "sync synced" }, `In the cloud since ${new Date(g.synced_at).toLocaleString()}`)
        : h("p", { class: "sync pending" }, "Saved on this appliance · waiting for the next cloud sync");
      fill(
        els.stage,
        h(
          "div",
          { class: "stage-finished" },
          h("div", { class: "stage-kicker" }, "Game over"),
          podium(g.leaderboard, {}),
          synced,
        ),
      );
    }
    return;
  }
  if (stageKey !== "round") {
    stageKey = "round";
    fill(els.stage, h("div", { class: "round-root" }));
  }
  const root = els.stage.firstElementChild;
  if (roundMod) roundMod.renderHost(root, s);
}

function renderControls(s) {
  const g = s.game;
  const r = g.round;
  const idx = r ? r.index : -1;
  const last = r ? idx + 1 >= (g.rounds || 0) : false;
  const noPlayers = g.players.length === 0;
  const key = `${g.phase}:${idx}:${last}:${noPlayers}`;
  if (key === controlsKey) return;
  controlsKey = key;

  const btn = (label, cls, onclick, attrs = {}) =>
    h("button", { type: "button", class: ["btn", cls], onclick, ...attrs }, label);
  const endGame = btn("End game", "danger ghost", (e) => {
    if (!confirm("End the game now and show the podium with the scores as they are?")) return;
    command(e.currentTarget, "end_game");
  });
  const parts = [];
  switch (g.phase) {
    case "lobby":
      parts.push(
        btn("Start game", "primary big", (e) => command(e.currentTarget, "start"), {
          disabled: noPlayers,
          id: "start",
          title: noPlayers ? "Wait for players to join" : "Start the first prompt",
        }),
      );
      break;
    case "question":
      parts.push(
        btn("End answering now", "primary", (e) =>
          command(e.currentTarget, "end_phase", { round: idx, phase: "question" }),
        ),
        btn("Skip prompt", "secondary", (e) => command(e.currentTarget, "skip", { round: idx })),
        endGame,
      );
      break;
    case "voting":
      parts.push(
        btn("End voting now", "primary", (e) => command(e.currentTarget, "end_phase", { round: idx, phase: "voting" })),
        btn("Skip prompt", "secondary", (e) => command(e.currentTarget, "skip", { round: idx })),
        endGame,
      );
      break;
    case "results":
      parts.push(
        btn(last ? "Show the podium" : "Next prompt", "primary big", (e) => command(e.currentTarget, "next", { round: idx }), {
          id: "next",
        }),
        endGame,
      );
      break;
    case "finished":
      parts.push(
        h("a", { class: "btn primary", href: "/host" }, "Host another game"),
        h("a", { class: "btn secondary", href: "/" }, "Home"),
      );
      break;
    default:
      break;
  }
  fill(els.controls, ...parts);
}
