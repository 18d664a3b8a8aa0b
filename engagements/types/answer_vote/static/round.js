// The answer-then-vote engagement type: how its rounds look on a phone, the big screen and the
// host console. Phases: question (everyone answers a prompt), voting (everyone votes for the
// best answer, never their own), results (answers with their authors, voters and points).
//
// Every view is the same size whatever the number of players (docs/protocol.md, "Rooms of any
// size"): a phone votes from its own ballot of at most 8 answers and sees its own result with the
// top 3; the big screen pages through the showcase a few answers at a time and reveals the top 8;
// the host console reads the full results a page at a time.
//
// Each render function is called on every state change; the DOM of a phase is built once per
// (phase, round, sub-state) and afterwards only counters are updated in place, so a half-typed
// answer survives an update and the reveal animation plays once.
//
// Besides its views the module declares its phases, its players' commands and its reducer (what
// its events and its `progress` updates change in the socket's state): web/static/types.js says what
// the pages ask of a type's module.

import { avatar, errorText as coreErrorText, h, num, plural, rankOf, session, setText } from "/static/ui.js";
import { countdown, setDeadline } from "/static/countdown.js";
import { mount, roundCss, unmount } from "/static/rounds.js";

const MAX_ANSWER = 140;
const BALLOT_MAX = 8; // a phone never shows more (the server never sends more)
const SCREEN_ALL = 8; // up to this many answers share one page of the big screen...
const SCREEN_PAGE = 6; // ...beyond, it pages through the showcase this many at a time
const PAGE_MS = 7000;
const HOST_RESULTS_PAGE = 20;
const BALLOT_GRACE_MS = 2500; // a vote opens with a `you` bringing the ballot: if it goes missing, resync

function tagOf(game) {
  return game.round ? roundTag(game, game.round) : "";
}

export const phases = {
  question: {
    label: "Answering",
    end: "End answers now",
    buzz: true,
    words: (g, who) =>
      who === "player"
        ? `${tagOf(g)}. Answer time: ${g.round ? g.round.prompt : ""}. Type your answer.`
        : `${tagOf(g)}. Answer time: ${g.round ? g.round.prompt : ""}`,
  },
  voting: {
    label: "Voting",
    end: "End voting now",
    buzz: true,
    words: (g, who) => (who === "player" ? "Voting is open: pick your favourite answer." : `${tagOf(g)}. Voting is open.`),
  },
  results: {
    label: "Results",
    words: (g, who) => (who === "player" ? "The results are in." : `${tagOf(g)}. The results are in.`),
  },
};

/** The texts of this type's refusals (docs/protocol.md, "Errors"). */
const ERRORS = {
  already_answered: "You already answered this one.",
  already_voted: "You already voted this round.",
  own_answer: "That's your own answer — pick another one.",
  not_on_ballot: "That answer isn't on your ballot any more — pick one of these.",
  no_such_option: "That answer isn't in the vote any more.",
};

const errorText = (err) => coreErrorText(err, ERRORS);

/**
 * What this type's part of an event or update changes, before the socket applies its own part: a new
 * round forgets your answer and vote; a ballot belongs to a vote, a result to the results (the `you`
 * that follows brings the new ones); `progress` counts only for the round it names.
 */
export function reduce(state, msg) {
  const g = state.game;
  if (msg.type === "progress") {
    const r = g.round;
    if (!r || r.index !== msg.round) return false;
    r.answered = msg.answered;
    r.voted = msg.voted;
    r.eligible = msg.eligible;
    return true;
  }
  if (msg.type === "phase_changed" && state.you) {
    const you = state.you;
    const before = g.round ? g.round.index : null;
    const after = msg.round ? msg.round.index : null;
    if (before !== after) {
      you.answer_option = null;
      you.vote = null;
    }
    if (msg.phase !== "voting") you.ballot = null;
    if (msg.phase !== "results") you.result = null;
  }
  return true;
}

/** The player's commands: answer and vote, each settled by its ack (what it changes shows at once). */
export function commands({ send, sync, state, refresh }) {
  const inRound = (index) => state().game.round && state().game.round.index === index;
  const roundIndex = () => (state().game.round ? state().game.round.index : -1);
  return {
    sync,
    answer(text) {
      const index = roundIndex();
      return send("answer", { round: index, text }).then(
        (ack) => {
          if (inRound(index)) {
            const you = state().you;
            you.answer_option = ack.option ?? you.answer_option ?? "answered";
            refresh();
          }
          return ack;
        },
        (err) => {
          if (err.code === "already_answered") sync();
          throw err;
        },
      );
    },
    vote(option) {
      const index = roundIndex();
      return send("vote", { round: index, option }).then(
        (ack) => {
          if (inRound(index)) {
            state().you.vote = option;
            refresh();
          }
          return ack;
        },
        (err) => {
          // Already voted, or the ballot changed under us: the snapshot has the truth.
          if (err.code === "already_voted" || err.code === "not_on_ballot") sync();
          throw err;
        },
      );
    },
  };
}

let ballotWatch = { key: "", timer: 0 };
/** A vote opens with a `you` bringing this phone's ballot; should it go missing, ask for a snapshot. */
function watchBallot(state, actions) {
  const g = state.game;
  const r = g.round;
  const you = state.you;
  const waiting = g.phase === "voting" && r && you && you.ballot == null && you.vote == null;
  const key = waiting ? `${r.index}` : "";
  if (key === ballotWatch.key) return;
  clearTimeout(ballotWatch.timer);
  ballotWatch = { key, timer: 0 };
  if (waiting) ballotWatch.timer = setTimeout(() => actions.sync(), BALLOT_GRACE_MS);
}

roundCss("answer-vote", import.meta.url);

// ---- shared helpers -------------------------------------------------------------------------

function roundTag(game, round) {
  const total = game.rounds || 0;
  return total ? `Prompt ${round.index + 1} of ${total}` : `Prompt ${round.index + 1}`;
}

function head(refs, game, round, label) {
  refs.timer = countdown(round.deadline, "av-timer");
  return h(
    "div",
    { class: "av-head" },
    h("span", { class: "av-tag" }, roundTag(game, round)),
    label ? h("span", { class: "av-phase" }, label) : null,
    h("span", { class: "av-spacer" }),
    refs.timer,
  );
}

function progress(refs, cls = "") {
  refs.progressText = h("span", { class: "av-progress-text" });
  refs.bar = h("span", { class: "av-bar-fill" });
  return h(
    "div",
    { class: ["av-progress", cls] },
    refs.progressText,
    h("span", { class: "av-bar", "aria-hidden": "true" }, refs.bar),
  );
}

function setProgress(refs, done, total, noun) {
  const d = done ?? 0;
  const t = total ?? 0;
  setText(refs.progressText, `${num(d)} of ${num(t)} ${noun} in`);
  refs.bar.style.width = `${t > 0 ? Math.min(100, (100 * d) / t) : 0}%`;
}

/** A stable per-player shuffle, so each phone sees its own order that doesn't jump around. */
function shuffled(items, seedText) {
  let seed = 2166136261;
  for (const ch of String(seedText)) seed = Math.imul(seed ^ ch.codePointAt(0), 16777619);
  const rand = () => {
    seed = Math.imul(seed ^ (seed >>> 15), 2246822507);
    seed = Math.imul(seed ^ (seed >>> 13), 3266489909);
    seed ^= seed >>> 16;
    return (seed >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function pointsText(n) {
  return n > 0 ? `+${num(n)}` : "0";
}

/** Seconds between two cards of the big screen's reveal: the whole reveal takes about 12 s. */
export function revealInterval(count) {
  return Math.min(2.5, 12 / Math.max(1, count));
}
const REVEAL_START = 0.3; // seconds after the results open: the first card is in within 1 s

/** Seconds until the big screen has revealed a round's results (its leaderboard follows them). */
export function revealSeconds(round) {
  const n = Math.min(SCREEN_ALL, (round && round.results ? round.results.length : 0) || 1);
  return REVEAL_START + n * revealInterval(n);
}

function resultCard(res, { me = null, index = 0, total = 1, big = false, reveal = false } = {}) {
  const mine = me && res.author && res.author.id === me;
  const winner = res.rank === 1 && res.votes > 0;
  const voters = res.voters;
  const attrs = { class: ["av-result", mine && "mine", winner && "winner", big && "big"], dataset: { option: res.option } };
  if (reveal) {
    // Reveal from the last listed up to the best, which comes last.
    const delay = REVEAL_START + (total - 1 - index) * revealInterval(total);
    attrs.style = { animationDelay: `${delay.toFixed(2)}s` };
    attrs.dataset.reveal = String(total - 1 - index);
  }
  return h(
    "li",
    attrs,
    big ? h("span", { class: "av-result-rank" }, h("span", { class: "sr-only" }, "Rank "), String(res.rank ?? index + 1)) : null,
    h(
      "div",
      { class: "av-result-main" },
      h("div", { class: ["av-result-text", big && "fit-text"] }, res.text),
      h(
        "div",
        { class: "av-result-author" },
        res.author ? avatar(res.author.nickname, "avatar-sm") : null,
        h("span", { class: "av-author-name" }, res.author ? res.author.nickname : "?"),
        mine ? h("span", { class: "av-you" }, "you") : null,
        voters && voters.length && big
          ? h("span", { class: "av-voters" }, h("span", { class: "av-voters-label" }, "· voted by "), voters.join(", "))
          : null,
      ),
      voters && !big
        ? voters.length
          ? h("div", { class: "av-voters" }, h("span", { class: "muted" }, "Voted by "), voters.join(", "))
          : h("div", { class: "av-voters muted" }, "No votes")
        : null,
    ),
    h(
      "div",
      { class: "av-result-side" },
      h("div", { class: "av-votes" }, h("b", null, num(res.votes)), res.votes === 1 ? " vote" : " votes"),
      h("div", { class: ["av-points", res.points > 0 && "pos"] }, pointsText(res.points)),
    ),
  );
}

function resultsList(results, opts = {}) {
  const list = h("ol", { class: ["av-results", opts.cls] });
  const rows = results || [];
  rows.forEach((res, i) => list.append(resultCard(res, { ...opts, index: i, total: rows.length })));
  if (!rows.length) list.append(h("li", { class: "av-empty" }, "Nobody answered this prompt."));
  return list;
}

function moreLine(more, cls = "") {
  return more > 0 ? h("p", { class: ["av-more", cls] }, `and ${plural(more, "more answer")}`) : null;
}

/**
 * The largest font size (px, between min and max) at which every `item` of `box` shows its whole
 * content: the items are sized by the layout (grid cells), the text by this. `each`: every item
 * gets its own size (a short answer stays big beside a long one), else they share the smallest.
 */
function fitText(box, selector, { min = 12, max = 96, each = false } = {}) {
  if (!box.isConnected) return;
  const items = [...box.querySelectorAll(selector)];
  if (!items.length || !box.clientHeight) return;
  const top = Math.max(min, Math.min(max, 0.07 * Math.min(innerWidth, innerHeight)));
  const fit = (targets, setSize) => {
    const within = (el) => el.scrollHeight <= el.clientHeight + 1 && el.scrollWidth <= el.clientWidth + 1;
    // The item must hold its content, and each text its longest word (which may not spill into padding).
    const fits = () => targets.every((el) => within(el) && [...el.querySelectorAll(".fit-text")].every(within));
    let lo = min;
    let hi = top;
    setSize(hi);
    if (fits()) return;
    for (let i = 0; i < 8; i++) {
      const mid = (lo + hi) / 2;
      setSize(mid);
      if (fits()) lo = mid;
      else hi = mid;
    }
    setSize(Math.floor(lo));
  };
  // Measured with words unbroken, so a long word shrinks the text rather than splitting.
  box.classList.add("fitting");
  if (each) {
    for (const el of items) fit([el], (px) => el.style.setProperty("--fit", `${px}px`));
  } else {
    fit(items, (px) => box.style.setProperty("--fit", `${px}px`));
  }
  box.classList.remove("fitting");
}

// Text fitted to the window is fitted again when the window changes size.
const fitted = new Map(); // box -> () => void
let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const [box, fit] of fitted) {
      if (box.isConnected) fit();
      else fitted.delete(box);
    }
  }, 100);
});

function keepFitted(box, fit) {
  fitted.set(box, fit);
  requestAnimationFrame(fit);
}

// ---- the player's phone ---------------------------------------------------------------------

export function renderPlayer(root, state, actions) {
  const g = state.game;
  const r = g.round;
  watchBallot(state, actions);
  if (!r) {
    unmount(root);
    return;
  }
  if (g.phase === "question") playerQuestion(root, state, actions);
  else if (g.phase === "voting") playerVoting(root, state, actions);
  else if (g.phase === "results") playerResults(root, state);
  else unmount(root);
}

function inlineError() {
  return h("p", { class: "av-error", role: "alert", hidden: true });
}

function showError(el, text) {
  setText(el, text || "");
  el.hidden = !text;
}

function playerQuestion(root, state, actions) {
  const g = state.game;
  const r = g.round;
  const you = state.you || {};
  const done = you.answer_option != null;
  const draftKey = `engagements:draft:${g.id}:${r.index}`;
  const sentKey = `engagements:sent:${g.id}:${r.index}`;
  const refs = mount(root, `q:${r.index}:${done}`, (refs) => {
    const parts = [head(refs, g, r, null), h("h2", { class: "av-prompt" }, r.prompt)];
    if (done) {
      const sent = session.get(sentKey);
      parts.push(
        h(
          "div",
          { class: "av-done", dataset: { state: "answered" } },
          h("div", { class: "av-check", "aria-hidden": "true" }, "✓"),
          h("p", { class: "av-done-title" }, "Answer in!"),
          sent ? h("blockquote", { class: "av-mine" }, sent) : null,
          h("p", { class: "muted" }, "Waiting for the others…"),
        ),
        progress(refs),
      );
    } else {
      const ta = h("textarea", {
        class: "av-input",
        name: "answer",
        maxlength: String(MAX_ANSWER),
        rows: "3",
        placeholder: "Your funniest answer…",
        autocomplete: "off",
        autocapitalize: "sentences",
        enterkeyhint: "send",
        "aria-label": "Your answer",
        value: session.get(draftKey) || "",
      });
      const counter = h("span", { class: "av-counter" });
      const err = inlineError();
      const btn = h("button", { class: "btn primary big block", type: "submit" }, "Send answer");
      const count = () => {
        const n = [...ta.value].length;
        setText(counter, `${n} / ${MAX_ANSWER}`);
        counter.classList.toggle("near", n > MAX_ANSWER - 20);
      };
      count();
      ta.addEventListener("input", () => {
        count();
        showError(err, "");
        session.set(draftKey, ta.value);
      });
      ta.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          form.requestSubmit();
        }
      });
      const form = h(
        "form",
        {
          class: "av-form",
          onsubmit: (e) => {
            e.preventDefault();
            if (btn.disabled) return;
            const text = ta.value.trim();
            if (!text) {
              showError(err, "Type an answer first.");
              ta.focus();
              return;
            }
            if ([...text].length > MAX_ANSWER) {
              showError(err, `Keep it to ${MAX_ANSWER} characters.`);
              return;
            }
            btn.disabled = true;
            ta.readOnly = true;
            setText(btn, "Sending…");
            session.set(sentKey, text);
            actions.answer(text).then(
              () => session.remove(draftKey),
              (error) => {
                btn.disabled = false;
                ta.readOnly = false;
                setText(btn, "Send answer");
                showError(err, errorText(error));
              },
            );
          },
        },
        ta,
        h("div", { class: "av-form-row" }, counter),
        err,
        btn,
      );
      parts.push(form, progress(refs, "subtle"));
    }
    return h("section", { class: "av av-player av-question", "aria-label": "Your answer" }, ...parts);
  });
  setDeadline(refs.timer, r.deadline);
  setProgress(refs, r.answered, r.eligible, "answers");
}

/** The phone's ballot: at most 8 answers, never its own (the server's `you.ballot`). */
function ballotOf(you) {
  if (!Array.isArray(you.ballot)) return null;
  return you.ballot.filter((o) => o && o.id !== you.answer_option).slice(0, BALLOT_MAX);
}

function playerVoting(root, state, actions) {
  const g = state.game;
  const r = g.round;
  const you = state.you || {};
  const me = you.player ? you.player.id : "";
  const voted = you.vote != null;
  const ballot = ballotOf(you);
  const ballotKey = ballot ? ballot.map((o) => o.id).join(",") : "none";
  const refs = mount(root, `v:${r.index}:${voted}:${voted ? you.vote : ballotKey}`, (refs) => {
    const parts = [head(refs, g, r, "Vote"), h("h2", { class: "av-prompt small" }, r.prompt)];
    if (voted) {
      const chosen = (ballot || []).find((o) => o.id === you.vote) || refs.chosen;
      parts.push(
        h(
          "div",
          { class: "av-done", dataset: { state: "voted" } },
          h("div", { class: "av-check", "aria-hidden": "true" }, "✓"),
          h("p", { class: "av-done-title" }, "Vote in!"),
          chosen ? h("blockquote", { class: "av-mine" }, chosen.text) : null,
          h("p", { class: "muted" }, "Results on the big screen soon."),
        ),
        progress(refs),
      );
    } else if (ballot == null) {
      parts.push(
        h(
          "div",
          { class: "av-done", dataset: { state: "waiting" } },
          h("span", { class: "spinner", "aria-hidden": "true" }),
          h("p", { class: "muted" }, "Getting your ballot…"),
        ),
        progress(refs, "subtle"),
      );
    } else if (!ballot.length) {
      parts.push(
        h("div", { class: "av-done" }, h("p", { class: "muted" }, "Nothing to vote for this time — sit tight.")),
        progress(refs),
      );
    } else {
      const options = shuffled(ballot, `${me}:${r.index}`);
      const err = inlineError();
      const buttons = [];
      const pick = (opt, btn) => {
        if (buttons.some((b) => b.disabled)) return;
        for (const b of buttons) b.disabled = true;
        btn.classList.add("chosen");
        btn.setAttribute("aria-pressed", "true");
        showError(err, "");
        actions.vote(opt.id).catch((error) => {
          for (const b of buttons) b.disabled = false;
          btn.classList.remove("chosen");
          btn.setAttribute("aria-pressed", "false");
          showError(err, errorText(error));
        });
      };
      const list = h("ul", { class: "av-ballot", "aria-label": "Your ballot" });
      options.forEach((opt, i) => {
        const btn = h(
          "button",
          { class: "av-option", type: "button", "aria-pressed": "false", dataset: { option: opt.id } },
          h("span", { class: "av-letter", "aria-hidden": "true" }, LETTERS[i] || "•"),
          h("span", { class: "av-option-text" }, opt.text),
        );
        btn.addEventListener("click", () => pick(opt, btn));
        buttons.push(btn);
        list.append(h("li", null, btn));
      });
      const many = r.ballots && r.answers > options.length;
      parts.push(
        h(
          "p",
          { class: "av-instr" },
          "Tap the answer you like best",
          many ? h("span", { class: "av-instr-more" }, ` · ${options.length} of ${num(r.answers)} answers, picked for you`) : null,
        ),
        list,
        err,
        progress(refs, "subtle"),
      );
    }
    return h("section", { class: "av av-player av-voting", "aria-label": "Vote" }, ...parts);
  });
  setDeadline(refs.timer, r.deadline);
  setProgress(refs, r.voted, r.eligible, "votes");
}

function playerResults(root, state) {
  const g = state.game;
  const r = g.round;
  const you = state.you || {};
  const me = you.player ? you.player.id : null;
  const res = you.result;
  const key = `r:${r.index}:${res ? `${res.option}:${res.votes}:${res.points}:${res.rank}` : "none"}`;
  const refs = mount(root, key, (refs) => {
    const results = r.results || [];
    const answers = r.answers ?? results.length + (r.more || 0);
    refs.score = h("b", { class: "av-score" });
    refs.rank = h("b", { class: "av-rank" });
    refs.rankOf = h("span", { class: "av-rank-of muted" });
    const summary = res
      ? h(
          "div",
          { class: ["av-summary", res.points > 0 && "good"] },
          h("div", { class: "av-summary-big" }, pointsText(res.points)),
          h(
            "div",
            { class: "av-summary-text" },
            h("p", { class: "av-summary-line" }, `Your answer got ${plural(res.votes, "vote")}`),
            h(
              "p",
              { class: "av-summary-sub" },
              res.rank ? `${rankOf(res.rank, answers)} answers` : null,
              res.shown != null ? ` · on ${plural(res.shown, "ballot")}` : null,
            ),
          ),
        )
      : h(
          "div",
          { class: "av-summary" },
          h("div", { class: "av-summary-big" }, "0"),
          h("div", { class: "av-summary-text" }, h("p", { class: "av-summary-line" }, "You didn't answer this one")),
        );
    return h(
      "section",
      { class: "av av-player av-results-view", "aria-label": "Results" },
      h("div", { class: "av-head" }, h("span", { class: "av-tag" }, roundTag(g, r)), h("span", { class: "av-phase" }, "Results")),
      h("h2", { class: "av-prompt small" }, r.prompt),
      summary,
      h(
        "div",
        { class: "av-standing" },
        h("div", null, h("span", { class: "av-standing-label" }, "Your score "), refs.score),
        h("div", null, h("span", { class: "av-standing-label" }, "Your rank "), refs.rank, refs.rankOf),
      ),
      h("h3", { class: "av-sub" }, results.length > 1 ? `Top ${results.length}` : "Top answer"),
      resultsList(results, { me, cls: "top" }),
      moreLine(r.more),
      h("p", { class: "muted center" }, "Waiting for the host to continue…"),
    );
  });
  const p = you.player || {};
  setText(refs.score, num(p.score ?? 0));
  setText(refs.rank, p.rank ? `#${num(p.rank)}` : "–");
  const players = g.room && g.room.players;
  setText(refs.rankOf, p.rank && players ? ` of ${plural(players, "player")}` : "");
}

// ---- the big screen -------------------------------------------------------------------------

export function renderScreen(root, state) {
  const g = state.game;
  const r = g.round;
  if (!r) {
    unmount(root);
    return;
  }
  if (g.phase === "question") screenQuestion(root, g, r);
  else if (g.phase === "voting") screenVoting(root, g, r);
  else if (g.phase === "results") screenResults(root, g, r);
  else unmount(root);
}

function promptSize(text) {
  const n = [...String(text || "")].length;
  return n > 140 ? "long" : n > 70 ? "medium" : "short";
}

function screenQuestion(root, g, r) {
  const refs = mount(root, `q:${r.index}`, (refs) =>
    h(
      "section",
      { class: "av av-screen av-question", "aria-label": "Question" },
      h("header", { class: "av-screen-head" }, head(refs, g, r, "Answer on your phone")),
      h("h1", { class: ["av-prompt", "xl", promptSize(r.prompt)] }, r.prompt),
      progress(refs, "xl"),
    ),
  );
  setDeadline(refs.timer, r.deadline);
  setProgress(refs, r.answered, r.eligible, "answers");
}

/** The showcase in pages: everything on one page when it is small, else SCREEN_PAGE at a time. */
function screenPages(options) {
  if (options.length <= SCREEN_ALL) return [options];
  const pages = [];
  for (let i = 0; i < options.length; i += SCREEN_PAGE) pages.push(options.slice(i, i + SCREEN_PAGE));
  return pages;
}

function gridShape(count) {
  if (count <= 3) return [Math.max(1, count), 1];
  if (count === 4) return [2, 2];
  if (count <= 6) return [3, 2];
  return [4, 2];
}

function screenVoting(root, g, r) {
  const options = r.options || [];
  const refs = mount(root, `v:${r.index}`, (refs) => {
    const pages = screenPages(options);
    const [cols, rows] = gridShape(pages[0].length);
    refs.grid = h("ol", { class: "av-grid", "aria-label": "Answers in the vote", style: { "--cols": String(cols), "--rows": String(rows) } });
    refs.pageText = h("span", { class: "av-page-text" });
    refs.dots = h("span", { class: "av-dots", "aria-hidden": "true" });
    refs.note = h("span", { class: "av-showcase-note" });
    const showPage = (n) => {
      refs.page = n;
      const page = pages[n] || [];
      const first = pages.slice(0, n).reduce((a, p) => a + p.length, 0);
      refs.grid.replaceChildren(
        ...page.map((opt, i) =>
          h(
            "li",
            { class: "av-card", style: { "--i": String(i) }, dataset: { option: opt.id } },
            h("span", { class: "av-letter", "aria-hidden": "true" }, LETTERS[first + i] || "•"),
            h("span", { class: "av-card-text fit-text" }, opt.text),
          ),
        ),
      );
      if (!options.length) refs.grid.append(h("li", { class: "av-empty" }, "No answers to vote on."));
      setText(
        refs.pageText,
        pages.length > 1 ? `Answers ${first + 1}–${first + page.length} of ${options.length}` : "",
      );
      refs.dots.replaceChildren(...pages.map((_, i) => h("i", { class: i === n ? "on" : null })));
      refs.dots.hidden = pages.length < 2;
      fitText(refs.grid, ".av-card", { min: 14, max: 80, each: true });
    };
    refs.mounted = () => keepFitted(refs.grid, () => fitText(refs.grid, ".av-card", { min: 14, max: 80, each: true }));
    showPage(0);
    if (pages.length > 1) {
      const every = setInterval(() => {
        if (!refs.grid.isConnected) return;
        showPage((refs.page + 1) % pages.length);
      }, PAGE_MS);
      refs.cleanup = () => clearInterval(every);
    }
    return h(
      "section",
      { class: "av av-screen av-voting", "aria-label": "Vote" },
      h(
        "header",
        { class: "av-screen-head" },
        head(refs, g, r, "Vote on your phone"),
        h("h2", { class: ["av-prompt", "lg", promptSize(r.prompt)] }, r.prompt),
        progress(refs, "xl"),
      ),
      h("div", { class: "av-showcase" }, refs.grid),
      h("footer", { class: "av-screen-foot" }, refs.pageText, refs.dots, refs.note),
    );
  });
  const answers = r.answers ?? options.length;
  setText(
    refs.note,
    r.ballots && answers > options.length
      ? `${num(options.length)} of ${num(answers)} answers · every phone votes on its own 8`
      : r.ballots
        ? "Every phone votes on its own 8"
        : "",
  );
  setDeadline(refs.timer, r.deadline);
  setProgress(refs, r.voted, r.eligible, "votes");
}

function screenResults(root, g, r) {
  mount(root, `r:${r.index}`, (refs) => {
    const results = (r.results || []).slice(0, SCREEN_ALL);
    const list = resultsList(results, { cls: "reveal", big: true, reveal: true });
    list.style.setProperty("--rows", String(Math.max(1, results.length)));
    refs.mounted = () => keepFitted(list, () => fitText(list, ".av-result", { min: 12, max: 60, each: true }));
    return h(
      "section",
      { class: "av av-screen av-results-view", "aria-label": "Results" },
      h(
        "header",
        { class: "av-screen-head" },
        h("div", { class: "av-head" }, h("span", { class: "av-tag" }, roundTag(g, r)), h("span", { class: "av-phase" }, "Results")),
        h("h2", { class: ["av-prompt", "md"] }, r.prompt),
      ),
      h("div", { class: "av-results-box" }, list),
      moreLine(r.more, "reveal-more"),
    );
  });
}

// ---- the host console -----------------------------------------------------------------------

/**
 * The host's view of a round. `tools.request(type, fields)` reads a page from the server (the
 * full results of a round, 20 rows at a time).
 */
export function renderHost(root, state, tools = {}) {
  const g = state.game;
  const r = g.round;
  if (!r) {
    unmount(root);
    return;
  }
  const phase = g.phase;
  const refs = mount(root, `${phase}:${r.index}`, (refs) => {
    const parts = [head(refs, g, r, null), h("h2", { class: "av-prompt host" }, r.prompt)];
    if (phase === "question") {
      parts.push(progress(refs));
    } else if (phase === "voting") {
      parts.push(progress(refs));
      const options = r.options || [];
      refs.voteNote = h("p", { class: "muted small av-host-note" });
      const list = h("ol", { class: "av-host-options" });
      for (const opt of options) list.append(h("li", null, opt.text));
      parts.push(
        h("h3", { class: "av-sub" }, "Answers in the vote"),
        refs.voteNote,
        h("div", { class: "av-host-scroll", tabindex: "0", "aria-label": "Answers in the vote" }, list),
      );
    } else if (phase === "results") {
      parts.push(hostResults(refs, r, tools));
    }
    return h("section", { class: `av av-host av-${phase}` }, ...parts);
  });
  setDeadline(refs.timer, r.deadline);
  if (refs.progressText) {
    if (phase === "question") setProgress(refs, r.answered, r.eligible, "answers");
    else setProgress(refs, r.voted, r.eligible, "votes");
  }
  if (refs.voteNote) {
    const shown = (r.options || []).length;
    const answers = r.answers ?? shown;
    setText(
      refs.voteNote,
      `${plural(answers, "answer")} in the vote${r.ballots ? " · every phone votes on a ballot of 8" : ""}${
        answers > shown ? ` · showing ${num(shown)}` : ""
      }`,
    );
  }
}

/** A round's full results, read a page at a time (the first page is the board's top 8 until it comes). */
function hostResults(refs, r, tools) {
  const body = h("tbody");
  const status = h("span", { class: "av-pager-text", "aria-live": "polite" });
  const prev = h("button", { type: "button", class: "btn secondary small", disabled: true }, "Previous");
  const next = h("button", { type: "button", class: "btn secondary small", disabled: true }, "Next");
  const err = h("p", { class: "av-error", role: "alert", hidden: true });
  const total = () => refs.total ?? r.answers ?? (r.results || []).length + (r.more || 0);
  const rowsOf = (items) =>
    items.map((row) =>
      h(
        "tr",
        { dataset: { option: row.option } },
        h("td", { class: "num" }, String(row.rank)),
        h("td", { class: "av-cell-text" }, row.text),
        h("td", null, row.author ? row.author.nickname : "?"),
        h("td", { class: "num" }, num(row.votes)),
        h("td", { class: "num" }, row.shown == null ? "–" : num(row.shown)),
        h("td", { class: ["num", row.points > 0 && "pos"] }, pointsText(row.points)),
      ),
    );
  const show = (offset, items) => {
    refs.offset = offset;
    body.replaceChildren(...rowsOf(items));
    if (!items.length) body.append(h("tr", null, h("td", { colspan: "6", class: "muted" }, "Nobody answered this prompt.")));
    const t = total();
    setText(status, t ? `${num(offset + 1)}–${num(offset + items.length)} of ${plural(t, "answer")}` : "No answers");
    prev.disabled = offset <= 0;
    next.disabled = offset + items.length >= t;
  };
  const load = (offset) => {
    if (!tools.request) return;
    prev.disabled = next.disabled = true;
    showError(err, "");
    tools.request("results", { round: r.index, offset }).then(
      (reply) => {
        if (!reply || !body.isConnected) return; // superseded, or the view moved on
        refs.total = reply.total;
        show(reply.offset, reply.items || []);
      },
      (error) => {
        if (!body.isConnected) return;
        showError(err, errorText(error));
        show(refs.offset || 0, []);
      },
    );
  };
  prev.addEventListener("click", () => load(Math.max(0, (refs.offset || 0) - HOST_RESULTS_PAGE)));
  next.addEventListener("click", () => load((refs.offset || 0) + HOST_RESULTS_PAGE));
  show(0, r.results || []);
  refs.mounted = () => load(0);
  return h(
    "div",
    { class: "av-host-results" },
    h(
      "div",
      { class: "av-host-results-head" },
      h("h3", { class: "av-sub" }, "All answers"),
      h("div", { class: "av-pager" }, status, prev, next),
    ),
    err,
    h(
      "div",
      { class: "av-host-scroll", tabindex: "0", "aria-label": "Results of this prompt" },
      h(
        "table",
        { class: "av-table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col", class: "num" }, "#"),
            h("th", { scope: "col" }, "Answer"),
            h("th", { scope: "col" }, "Author"),
            h("th", { scope: "col", class: "num" }, "Votes"),
            h("th", { scope: "col", class: "num" }, "Shown"),
            h("th", { scope: "col", class: "num" }, "Points"),
          ),
        ),
        body,
      ),
    ),
  );
}
