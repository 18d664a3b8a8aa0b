// The poll in the browser: the whole type on this side (web/static/types.js says what a type's module
// exports). Phases: open (everyone chooses: one option, or several and then "Send"), results (the
// counts). The big screen and the host watch live bars from `progress`; a phone sees the bars once
// the question closes. No view names who chose what, and a poll has no scores (`scored: false`: the
// pages show neither a leaderboard nor a podium).
//
// Every view is the same size whatever the room (at most 8 options, one bar each). The DOM of a
// phase is built once per (round, phase, sub-state); updates only move the bars and the counts.

import { errorText as coreErrorText, h, num, plural, setText } from "/static/ui.js";
import { countdown, setDeadline } from "/static/countdown.js";
import { mount, roundCss } from "/static/rounds.js";

const LETTERS = "ABCDEFGH";

export const scored = false;

function tagOf(game) {
  const r = game.round;
  if (!r) return "";
  return game.rounds ? `Question ${r.index + 1} of ${game.rounds}` : `Question ${r.index + 1}`;
}

export const phases = {
  open: {
    label: "Voting",
    end: "Close the poll now",
    buzz: true,
    words: (g, who) => {
      const r = g.round;
      const how = r && r.multiple ? "Choose all that apply, then send." : "Choose one.";
      return who === "player" ? `${tagOf(g)}. ${r ? r.prompt : ""} ${how}` : `${tagOf(g)}. The poll is open: ${r ? r.prompt : ""}`;
    },
  },
  results: {
    label: "Results",
    words: (g) => `${tagOf(g)}. The poll has closed: the results are in.`,
  },
};

const ERRORS = { already_voted: "You already voted on this one." };
const errorText = (err) => coreErrorText(err, ERRORS);

/** A new round forgets your choices; `progress` moves the counts of the round it names. */
export function reduce(state, msg) {
  const r = state.game.round;
  if (msg.type === "progress") {
    if (!r || r.index !== msg.round) return false;
    r.voted = msg.voted;
    r.eligible = msg.eligible;
    if (r.counts != null) r.counts = msg.counts; // a phone's stay hidden until the poll closes
    return true;
  }
  if (msg.type === "phase_changed" && state.you && (!msg.round || !r || msg.round.index !== r.index)) {
    state.you.choices = null;
  }
  return true;
}

/** The player's one command: a vote with all its choices, final once acknowledged. */
export function commands({ send, sync, state, refresh }) {
  return {
    vote(choices) {
      const index = state().game.round.index;
      return send("vote", { round: index, choices }).then(
        (ack) => {
          const g = state().game;
          if (g.round && g.round.index === index) {
            state().you.choices = ack.choices || choices;
            refresh();
          }
          return ack;
        },
        (err) => {
          if (err.code === "already_voted") sync();
          throw err;
        },
      );
    },
  };
}

roundCss("poll", import.meta.url);

// ---- shared ----------------------------------------------------------------------------------

/** The round's tag, what to do now and, while the poll is open, its countdown. */
function head(refs, g, label, timed) {
  refs.timer = timed ? countdown(g.round.deadline, "poll-timer") : null;
  return h(
    "div",
    { class: "poll-head" },
    h("span", { class: "poll-tag" }, tagOf(g)),
    h("span", { class: "poll-phase" }, label),
    h("span", { class: "poll-spacer" }),
    refs.timer,
  );
}

/** One bar per option: its letter, text, count and share of the voters (updated by `setBars`). */
function bars(refs, r, mine = []) {
  refs.bars = r.options.map((text, i) => {
    const fill = h("span", { class: "poll-fill" });
    const count = h("span", { class: "poll-count" });
    const li = h(
      "li",
      { class: ["poll-bar", mine.includes(i) && "mine"], dataset: { option: String(i) } },
      h("span", { class: "poll-letter", "aria-hidden": "true" }, LETTERS[i]),
      h("span", { class: "poll-text" }, text, mine.includes(i) ? h("span", { class: "poll-yours" }, " · your choice") : null),
      count,
      h("span", { class: "poll-track", "aria-hidden": "true" }, fill),
    );
    return { li, fill, count };
  });
  return h("ol", { class: "poll-bars", "aria-label": "Votes per option", style: { "--n": String(r.options.length) } }, ...refs.bars.map((b) => b.li));
}

function percent(votes, voters) {
  return voters ? Math.round((100 * votes) / voters) : 0;
}

function setBars(refs, r) {
  const counts = r.counts || [];
  const top = Math.max(0, ...counts);
  refs.bars.forEach((b, i) => {
    const n = counts[i] || 0;
    const p = percent(n, r.voted);
    b.fill.style.width = `${p}%`;
    setText(b.count, `${num(n)} · ${p}%`);
    b.li.classList.toggle("top", top > 0 && n === top);
  });
}

function votedLine(refs) {
  refs.voted = h("p", { class: "poll-voted", "aria-live": "off" });
  return refs.voted;
}

function setVoted(refs, r) {
  setText(refs.voted, `${num(r.voted ?? 0)} of ${plural(r.eligible ?? 0, "player")} voted`);
}

// ---- the phone -------------------------------------------------------------------------------

export function renderPlayer(root, state, actions) {
  const g = state.game;
  const r = g.round;
  if (!r) return root.replaceChildren();
  const mine = (state.you && state.you.choices) || null;
  if (g.phase === "results") {
    const refs = mount(root, `r:${r.index}:${mine}`, (refs) =>
      h("section", { class: "poll poll-player", "aria-label": "Results" }, h("h2", { class: "poll-prompt" }, r.prompt), bars(refs, r, mine || []), votedLine(refs)),
    );
    setBars(refs, r);
    setVoted(refs, r);
    return;
  }
  if (mine) {
    mount(root, `d:${r.index}`, () =>
      h(
        "section",
        { class: "poll poll-player poll-done", "aria-label": "Your vote" },
        h("p", { class: "poll-done-title" }, "Vote in!"),
        h("h2", { class: "poll-prompt" }, r.prompt),
        h("ul", { class: "poll-mine" }, ...mine.map((i) => h("li", null, `${LETTERS[i]} · ${r.options[i]}`))),
        h("p", { class: "muted" }, "The results show here when the poll closes."),
      ),
    );
    return;
  }
  mount(root, `o:${r.index}`, () => {
    const picked = new Set();
    const err = h("p", { class: "poll-error", role: "alert", hidden: true });
    const send = h("button", { type: "button", class: "btn primary big block poll-send", disabled: true }, "Send my choices");
    const busy = (on) => {
      for (const b of buttons) b.disabled = on;
      send.disabled = on || !picked.size;
    };
    const vote = (choices) => {
      busy(true);
      err.hidden = true;
      actions.vote(choices).catch((e) => {
        setText(err, errorText(e));
        err.hidden = false;
        busy(false);
      });
    };
    const buttons = r.options.map((text, i) =>
      h(
        "button",
        {
          type: "button",
          class: "poll-option",
          "aria-pressed": r.multiple ? "false" : null,
          dataset: { option: String(i) },
          onclick: (e) => {
            if (!r.multiple) return vote([i]);
            picked.has(i) ? picked.delete(i) : picked.add(i);
            e.currentTarget.setAttribute("aria-pressed", String(picked.has(i)));
            send.disabled = !picked.size;
            setText(send, picked.size ? `Send ${plural(picked.size, "choice")}` : "Send my choices");
          },
        },
        h("span", { class: "poll-letter", "aria-hidden": "true" }, LETTERS[i]),
        h("span", { class: "poll-text" }, text),
      ),
    );
    send.addEventListener("click", () => vote([...picked].sort((a, b) => a - b)));
    return h(
      "section",
      { class: "poll poll-player", "aria-label": "Vote" },
      h("h2", { class: "poll-prompt" }, r.prompt),
      h("p", { class: "muted poll-how" }, r.multiple ? "Choose all that apply, then send." : "Tap your answer."),
      h("div", { class: "poll-options" }, ...buttons),
      r.multiple ? send : null,
      err,
    );
  });
}

// ---- the big screen and the host ---------------------------------------------------------------

function board(root, state, cls) {
  const g = state.game;
  const r = g.round;
  if (!r) return root.replaceChildren();
  const open = g.phase === "open";
  const refs = mount(root, `${g.phase}:${r.index}`, (refs) =>
    h(
      "section",
      { class: ["poll", cls], "aria-label": open ? "Live poll" : "Poll results" },
      h("header", { class: "poll-board-head" }, head(refs, g, open ? (r.multiple ? "Choose all that apply on your phone" : "Vote on your phone") : "Results", open), h("h2", { class: "poll-prompt" }, r.prompt)),
      bars(refs, r),
      votedLine(refs),
    ),
  );
  if (refs.timer) setDeadline(refs.timer, r.deadline);
  setBars(refs, r);
  setVoted(refs, r);
}

export function renderScreen(root, state) {
  board(root, state, "poll-screen");
}

export function renderHost(root, state) {
  board(root, state, "poll-host");
}
