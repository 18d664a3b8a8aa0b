// The quiz in the browser: the whole type on this side (web/static/types.js says what a type's module
// exports). Phases: question (each phone taps one of 2 to 6 options), reveal (the correct option, how
// many chose each, your points; the pages add the leaderboard).
//
// Options are told apart by colour AND shape (and their text), never by colour alone. Every view is
// sized by the question, never by the room: the counts per option, the five fastest, your own result;
// the host reads everyone's answers a page at a time.

import { errorText as coreErrorText, h, num, plural, rankOf, setText } from "/static/ui.js";
import { countdown, setDeadline } from "/static/countdown.js";
import { mount, roundCss, unmount } from "/static/rounds.js";

const SHAPES = ["▲", "◆", "●", "■", "★", "⬟"];
const SHAPE_NAMES = ["triangle", "diamond", "circle", "square", "star", "pentagon"];
const HOST_PAGE = 20;
const REVEAL_SECONDS = 2.5; // the bars grow, then the leaderboard joins them on the big screen

const tag = (g) => (g.round ? `Question ${g.round.index + 1}${g.rounds ? ` of ${g.rounds}` : ""}` : "");

export const phases = {
  question: {
    label: "Question",
    end: "End question now",
    buzz: true,
    words: (g, who) =>
      `${tag(g)}. ${g.round ? g.round.prompt : ""}${who === "player" ? " Tap your answer." : ""}`,
  },
  reveal: {
    label: "Reveal",
    words: (g) => {
      const r = g.round;
      return r && r.answer ? `${tag(g)}. ${theAnswer(r, true)}.` : tag(g);
    },
  },
};

const ERRORS = {
  already_answered: "You already answered this one.",
  no_such_option: "That option isn't in this question.",
};
const errorText = (err) => coreErrorText(err, ERRORS);

/** A new question forgets your choice; a result belongs to the reveal; progress counts for its round. */
export function reduce(state, msg) {
  const g = state.game;
  if (msg.type === "progress") {
    const r = g.round;
    if (!r || r.index !== msg.round) return false;
    r.answered = msg.answered;
    r.eligible = msg.eligible;
    return true;
  }
  if (msg.type === "phase_changed" && state.you) {
    const before = g.round ? g.round.index : null;
    const after = msg.round ? msg.round.index : null;
    if (before !== after) state.you.choice = null;
    if (msg.phase !== "reveal") state.you.result = null;
  }
  return true;
}

export function commands({ send, sync, state, refresh }) {
  return {
    sync,
    answer(choice) {
      const index = state().game.round ? state().game.round.index : -1;
      return send("answer", { round: index, choice }).then(
        (ack) => {
          const g = state().game;
          if (g.round && g.round.index === index) {
            state().you.choice = choice;
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
  };
}

/** How long the big screen's reveal takes before the leaderboard joins it. */
export function revealSeconds() {
  return REVEAL_SECONDS;
}

roundCss("quiz", import.meta.url);

// ---- shared parts ---------------------------------------------------------------------------

function head(refs, g, r, label) {
  refs.timer = countdown(r.phase === "question" ? r.deadline : null, "qz-timer");
  return h(
    "div",
    { class: "qz-head" },
    h("span", { class: "qz-tag" }, tag(g)),
    label ? h("span", { class: "qz-phase" }, label) : null,
    h("span", { class: "qz-spacer" }),
    refs.timer,
  );
}

function shape(i) {
  return h("span", { class: "qz-shape", "aria-hidden": "true" }, SHAPES[i] || "•");
}

function answeredLine(refs) {
  refs.answered = h("p", { class: "qz-count", "aria-live": "off" });
  return refs.answered;
}

function setAnswered(refs, r) {
  if (refs.answered) setText(refs.answered, `${num(r.answered)} of ${num(r.eligible)} answered`);
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The counts per option as bars, the correct one marked (in words too, not only in colour). */
// "The answer: Paris" ("The answer is Paris" spoken), or "The answers: 2 or 3" when several are correct.
function theAnswer(r, spoken = false) {
  const right = r.answer.map((i) => r.options[i]).join(" or ");
  const several = r.answer.length > 1;
  return spoken ? `The answer${several ? "s are" : " is"} ${right}` : `The answer${several ? "s" : ""}: ${right}`;
}

function distribution(r, cls = "") {
  const counts = r.counts || r.options.map(() => 0);
  const total = counts.reduce((a, b) => a + b, 0);
  const most = Math.max(1, ...counts);
  return h(
    "ol",
    { class: ["qz-bars", cls], "aria-label": "How many chose each option" },
    ...r.options.map((text, i) =>
      h(
        "li",
        { class: ["qz-bar", `qz-o${i}`, r.answer.includes(i) ? "right" : "wrong"], dataset: { option: String(i) } },
        shape(i),
        h(
          "span",
          { class: "qz-bar-label" },
          h("span", { class: "qz-bar-text" }, text),
          r.answer.includes(i) ? h("span", { class: "qz-correct" }, " ✓ correct") : null,
        ),
        h(
          "span",
          { class: "qz-bar-track", "aria-hidden": "true" },
          h("span", { class: "qz-bar-fill", style: { "--w": `${(100 * counts[i]) / most}%` } }),
        ),
        h(
          "span",
          { class: "qz-bar-count" },
          num(counts[i]),
          h("span", { class: "qz-pct" }, total ? ` · ${Math.round((100 * counts[i]) / total)}%` : ""),
        ),
      ),
    ),
  );
}

// ---- the phone ------------------------------------------------------------------------------

export function renderPlayer(root, state, actions) {
  const g = state.game;
  const r = g.round;
  if (!r || !Array.isArray(r.options)) {
    unmount(root);
    return;
  }
  if (g.phase === "reveal") return playerReveal(root, state);
  const you = state.you || {};
  const choice = you.choice;
  const refs = mount(root, `q:${r.index}:${choice}`, (refs) => {
    const parts = [head(refs, g, r, null), h("h2", { class: "qz-prompt" }, r.prompt)];
    if (choice != null) {
      parts.push(
        h(
          "div",
          { class: ["qz-done", `qz-o${choice}`], dataset: { state: "answered" } },
          shape(choice),
          h("p", { class: "qz-done-title" }, "Answer locked in"),
          h("p", { class: "qz-done-choice" }, r.options[choice]),
          h("p", { class: "muted" }, "The answer comes when the time is up."),
        ),
      );
    } else {
      const err = h("p", { class: "qz-error", role: "alert", hidden: true });
      const buttons = r.options.map((text, i) =>
        h(
          "button",
          {
            type: "button",
            class: ["qz-option", `qz-o${i}`],
            dataset: { choice: String(i) },
            "aria-label": `${SHAPE_NAMES[i]}: ${text}`,
            onclick: () => {
              for (const b of buttons) b.disabled = true;
              buttons[i].classList.add("chosen");
              err.hidden = true;
              actions.answer(i).catch((error) => {
                for (const b of buttons) b.disabled = false;
                buttons[i].classList.remove("chosen");
                setText(err, errorText(error));
                err.hidden = false;
              });
            },
          },
          shape(i),
          h("span", { class: "qz-option-text" }, text),
        ),
      );
      parts.push(h("div", { class: ["qz-options", `n${r.options.length}`], role: "group", "aria-label": "Options" }, ...buttons), err);
    }
    parts.push(answeredLine(refs));
    return h("section", { class: "qz qz-player", "aria-label": "Question" }, ...parts);
  });
  setDeadline(refs.timer, r.deadline);
  setAnswered(refs, r);
}

function playerReveal(root, state) {
  const g = state.game;
  const r = g.round;
  const you = state.you || {};
  const res = you.result;
  const key = `r:${r.index}:${res ? `${res.points}:${res.rank}` : "none"}:${you.choice}`;
  const refs = mount(root, key, (refs) => {
    refs.score = h("b", { class: "qz-score" });
    refs.rank = h("b", { class: "qz-rank" });
    let verdict;
    if (res) {
      const lines = [seconds(res.ms)];
      if (res.streak > 1) lines.push(`${res.streak} in a row`);
      verdict = h(
        "div",
        { class: ["qz-verdict", res.correct ? "good" : "bad"], dataset: { state: res.correct ? "correct" : "wrong" } },
        h("span", { class: "qz-verdict-mark", "aria-hidden": "true" }, res.correct ? "✓" : "✗"),
        h(
          "div",
          null,
          h("p", { class: "qz-verdict-title" }, res.correct ? "Correct!" : "Not this time"),
          h("p", { class: "qz-verdict-sub" }, res.correct ? lines.join(" · ") : theAnswer(r)),
        ),
        h("span", { class: "qz-points" }, res.points > 0 ? `+${num(res.points)}` : "0"),
      );
    } else {
      verdict = h(
        "div",
        { class: "qz-verdict", dataset: { state: "none" } },
        h("div", null, h("p", { class: "qz-verdict-title" }, "No answer this time"), h("p", { class: "qz-verdict-sub" }, theAnswer(r))),
        h("span", { class: "qz-points" }, "0"),
      );
    }
    return h(
      "section",
      { class: "qz qz-player qz-reveal", "aria-label": "Answer" },
      head(refs, g, r, "Answer"),
      h("h2", { class: "qz-prompt small" }, r.prompt),
      verdict,
      h(
        "div",
        { class: "qz-standing" },
        h("div", null, h("span", { class: "muted" }, "Your score "), refs.score),
        h("div", null, h("span", { class: "muted" }, "Your rank "), refs.rank),
      ),
      distribution(r, "small"),
      h("p", { class: "muted center" }, "Waiting for the host to continue…"),
    );
  });
  const p = you.player || {};
  setText(refs.score, num(p.score ?? 0));
  const players = g.room && g.room.players;
  setText(refs.rank, p.rank ? rankOf(p.rank, players) : "–");
}

// ---- the big screen -------------------------------------------------------------------------

export function renderScreen(root, state) {
  const g = state.game;
  const r = g.round;
  if (!r || !Array.isArray(r.options)) {
    unmount(root);
    return;
  }
  const reveal = g.phase === "reveal";
  const refs = mount(root, `${g.phase}:${r.index}`, (refs) => {
    const parts = [
      h("header", { class: "qz-screen-head" }, head(refs, g, r, reveal ? "The answer" : "Answer on your phone")),
      h("h1", { class: ["qz-prompt", "xl", r.prompt.length > 90 && "long"] }, r.prompt),
    ];
    if (reveal) {
      parts.push(distribution(r, "big"));
      const fastest = r.fastest || [];
      parts.push(
        fastest.length
          ? h(
              "p",
              { class: "qz-fastest" },
              h("b", null, "Fastest: "),
              fastest.map((f) => `${f.nickname} (${seconds(f.ms)})`).join(" · "),
            )
          : h("p", { class: "qz-fastest muted" }, "Nobody got this one."),
      );
    } else {
      parts.push(
        h(
          "ol",
          { class: ["qz-grid", `n${r.options.length}`], "aria-label": "Options" },
          ...r.options.map((text, i) =>
            h("li", { class: ["qz-card", `qz-o${i}`], dataset: { option: String(i) } }, shape(i), h("span", { class: "qz-card-text" }, text)),
          ),
        ),
        answeredLine(refs),
      );
    }
    return h("section", { class: ["qz", "qz-screen", reveal && "qz-reveal"], "aria-label": reveal ? "The answer" : "Question" }, ...parts);
  });
  setDeadline(refs.timer, reveal ? null : r.deadline);
  setAnswered(refs, r);
}

// ---- the host console -----------------------------------------------------------------------

/** The host's view: compact, so the console's controls stay in view; answers read a page at a time. */
export function renderHost(root, state, tools = {}) {
  const g = state.game;
  const r = g.round;
  if (!r || !Array.isArray(r.options)) {
    unmount(root);
    return;
  }
  const reveal = g.phase === "reveal";
  const refs = mount(root, `${g.phase}:${r.index}`, (refs) => {
    const parts = [head(refs, g, r, null), h("h2", { class: "qz-prompt host" }, r.prompt)];
    if (reveal) parts.push(distribution(r, "small"), hostAnswers(refs, r, tools));
    else {
      parts.push(
        h("ol", { class: "qz-host-options" }, ...r.options.map((text, i) => h("li", { class: `qz-o${i}` }, shape(i), ` ${text}`))),
        answeredLine(refs),
      );
    }
    return h("section", { class: "qz qz-host" }, ...parts);
  });
  setDeadline(refs.timer, reveal ? null : r.deadline);
  setAnswered(refs, r);
}

function hostAnswers(refs, r, tools) {
  const body = h("tbody");
  const status = h("span", { class: "qz-pager-text", "aria-live": "polite" });
  const prev = h("button", { type: "button", class: "btn secondary small", disabled: true }, "Previous");
  const next = h("button", { type: "button", class: "btn secondary small", disabled: true }, "Next");
  const load = (offset) => {
    if (!tools.request) return;
    prev.disabled = next.disabled = true;
    tools.request("results", { round: r.index, offset }).then(
      (reply) => {
        if (!reply || !body.isConnected) return;
        refs.offset = reply.offset;
        const items = reply.items || [];
        body.replaceChildren(
          ...items.map((row) =>
            h(
              "tr",
              null,
              h("td", { class: "num" }, String(row.rank)),
              h("td", null, row.player.nickname),
              h("td", null, shape(row.choice), ` ${row.option}`, row.correct ? h("span", { class: "sr-only" }, " (correct)") : null),
              h("td", { class: "num" }, seconds(row.ms)),
              h("td", { class: ["num", row.points > 0 && "pos"] }, row.points > 0 ? `+${num(row.points)}` : "0"),
            ),
          ),
        );
        if (!items.length) body.append(h("tr", null, h("td", { colspan: "5", class: "muted" }, "Nobody answered.")));
        setText(status, reply.total ? `${num(reply.offset + 1)}–${num(reply.offset + items.length)} of ${plural(reply.total, "answer")}` : "");
        prev.disabled = reply.offset <= 0;
        next.disabled = reply.offset + items.length >= reply.total;
      },
      () => {},
    );
  };
  prev.addEventListener("click", () => load(Math.max(0, (refs.offset || 0) - HOST_PAGE)));
  next.addEventListener("click", () => load((refs.offset || 0) + HOST_PAGE));
  setTimeout(() => load(0));
  return h(
    "div",
    { class: "qz-host-answers" },
    h("div", { class: "qz-pager" }, h("h3", { class: "qz-sub" }, "Answers"), status, prev, next),
    h(
      "div",
      { class: "qz-host-scroll", tabindex: "0", "aria-label": "Everyone's answers" },
      h(
        "table",
        { class: "qz-table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col", class: "num" }, "#"),
            h("th", { scope: "col" }, "Player"),
            h("th", { scope: "col" }, "Answer"),
            h("th", { scope: "col", class: "num" }, "Time"),
            h("th", { scope: "col", class: "num" }, "Points"),
          ),
        ),
        body,
      ),
    ),
  );
}
