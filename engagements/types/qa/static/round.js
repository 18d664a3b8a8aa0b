// The Q&A in the browser: the whole type on this side (web/static/types.js says what a type's module
// exports). Phases: open (the audience asks and upvotes), closed (the host goes through the list).
// Every view gets the same bounded lists (`progress`: the highlighted question, the 20 most upvoted
// and the 5 newest with the fewest votes), never the whole list: the host pages through the rest
// with the `questions` request. A phone also knows its own questions and which listed ones it
// upvoted (`you`). No scores (`scored: false`).
//
// The DOM of a phase is built once per (round, phase); updates reorder and refresh the rows in place,
// so a phone typing a question or a host about to click keeps its place while the list moves.

import { errorText as coreErrorText, h, num, plural, setText } from "/static/ui.js";
import { mount, roundCss } from "/static/rounds.js";

export const scored = false;

const TEXT_MAX = 160; // engagements/types/qa: TEXT_MAX
const PAGE = 20; // the host's request: a page of questions
const HOST_REFRESH = 2000; // ms: a page the host reads follows the counts at most this often

export const phases = {
  open: {
    label: "Questions open",
    end: "Close questions",
    buzz: true,
    words: (g, who) =>
      who === "player"
        ? `Q&A: ${g.round ? g.round.prompt : ""}. Ask a question, or upvote the ones you want answered.`
        : `Q&A: ${g.round ? g.round.prompt : ""}. Questions are open.`,
  },
  closed: {
    label: "Questions closed",
    words: (g) => `Q&A: ${g.round ? g.round.prompt : ""}. Questions are closed.`,
  },
};

const ERRORS = {
  question_limit: "You have asked all the questions you can here.",
  own_question: "That one is yours: others upvote it.",
  already_voted: "You already upvoted that one.",
  not_voted: "You had not upvoted that one.",
  no_such_question: "That question is no longer listed.",
};
const errorText = (err) => coreErrorText(err, ERRORS);

roundCss("qa", import.meta.url);

/** `progress` replaces the round's lists and counts; a new round forgets your questions and votes. */
export function reduce(state, msg) {
  const r = state.game.round;
  if (msg.type === "progress") {
    if (!r || r.index !== msg.round) return false;
    for (const k of ["asked", "votes", "highlight", "top", "fresh"]) r[k] = msg[k];
    return true;
  }
  if (msg.type === "phase_changed" && state.you && (!msg.round || !r || msg.round.index !== r.index)) {
    state.you.mine = null;
    state.you.voted = null;
  }
  return true;
}

/** The questions of the round's lists (the highlight, the top, the newest), by id. */
function listed(r) {
  const out = new Map();
  for (const q of [r.highlight, ...(r.top || []), ...(r.fresh || [])]) if (q) out.set(q.id, q);
  return out;
}

/** Move a listed question's votes at once; the next `progress` brings the server's count. */
function bump(r, id, by) {
  for (const q of [r.highlight, ...(r.top || []), ...(r.fresh || [])]) if (q && q.id === id) q.votes += by;
}

/** The player's commands: ask, upvote and take an upvote back. */
export function commands({ send, state, refresh }) {
  const round = () => state().game.round;
  const you = () => state().you;
  const voted = () => new Set(you().voted || []);
  return {
    ask(text) {
      const r = round();
      return send("ask", { round: r.index, text }).then((ack) => {
        const mine = you().mine || [];
        if (round() && round().index === r.index && !mine.some((q) => q.id === ack.question)) {
          you().mine = [...mine, { id: ack.question, text: text.trim().replace(/\s+/g, " "), votes: 0, state: "asked" }];
          refresh();
        }
        return ack;
      });
    },
    upvote(id) {
      const r = round();
      const mark = () => {
        if (round() && round().index === r.index && !voted().has(id)) {
          you().voted = [...voted(), id];
          return true;
        }
        return false;
      };
      return send("upvote", { round: r.index, question: id }).then(
        (ack) => {
          if (mark()) bump(round(), id, 1);
          refresh();
          return ack;
        },
        (err) => {
          if (err.code === "already_voted") {
            mark();
            refresh();
          }
          throw err;
        },
      );
    },
    refresh,
    unvote(id) {
      const r = round();
      const unmark = () => {
        if (round() && round().index === r.index && voted().has(id)) {
          you().voted = [...voted()].filter((q) => q !== id);
          return true;
        }
        return false;
      };
      return send("unvote", { round: r.index, question: id }).then(
        (ack) => {
          if (unmark()) bump(round(), id, -1);
          refresh();
          return ack;
        },
        (err) => {
          if (err.code === "not_voted") {
            unmark();
            refresh();
          }
          throw err;
        },
      );
    },
  };
}

// ---- shared ----------------------------------------------------------------------------------

const STATE_WORDS = { asked: "", highlighted: "On screen now", answered: "Answered", hidden: "Hidden by the host" };

function countsText(r) {
  return `${plural(r.asked || 0, "question")} · ${plural(r.votes || 0, "upvote")}`;
}

/**
 * Keep `list`'s children one row per item, in order: rows are made once per id (`make`) and brought
 * up to date (`update`), so focus and scroll stay where they were when the list moves.
 */
function syncRows(list, items, rows, make, update) {
  const keep = new Set(items.map((q) => q.id));
  for (const [id, row] of rows) {
    if (!keep.has(id)) {
      row.el.remove();
      rows.delete(id);
    }
  }
  let at = list.firstElementChild;
  for (const q of items) {
    let row = rows.get(q.id);
    if (!row) {
      row = make(q);
      rows.set(q.id, row);
    }
    update(row, q);
    if (row.el !== at) list.insertBefore(row.el, at);
    else at = at.nextElementSibling;
  }
}

function votesBadge(cls = "qa-votes") {
  const n = h("span", { class: "qa-votes-n" });
  return { el: h("span", { class: cls }, h("span", { class: "qa-arrow", "aria-hidden": "true" }, "▲"), n), n };
}

// ---- the phone -------------------------------------------------------------------------------

const TABS = [
  ["top", "Top"],
  ["new", "New"],
  ["mine", "Yours"],
];

export function renderPlayer(root, state, actions) {
  const g = state.game;
  const r = g.round;
  if (!r) return root.replaceChildren();
  const open = g.phase === "open";
  const refs = mount(root, `${g.phase}:${r.index}`, (refs) => buildPlayer(refs, r, open, actions));
  const you = state.you || {};
  const mine = you.mine || [];
  const voted = new Set(you.voted || []);
  const own = new Set(mine.map((q) => q.id));
  const shown = listed(r);
  setText(refs.counts, countsText(r));
  refs.now.hidden = !r.highlight;
  if (r.highlight) {
    setText(refs.nowText, r.highlight.text);
    setText(refs.nowMeta, meta(r.highlight, r.highlight.votes));
  }
  for (const [tab, btn] of refs.tabs) {
    btn.setAttribute("aria-pressed", String(tab === refs.tab));
    if (tab === "mine") setText(btn, `Yours (${mine.length})`);
  }
  const items =
    refs.tab === "top"
      ? r.top || []
      : refs.tab === "new"
        ? [...(r.fresh || []), ...(r.top || [])].filter((q, i, all) => all.findIndex((x) => x.id === q.id) === i).sort(byNewest(r))
        : mine.map((q) => (shown.has(q.id) ? { ...q, votes: shown.get(q.id).votes, state: shown.get(q.id).state } : q));
  syncRows(refs.list, items, refs.rows, (q) => playerRow(q, actions, refs), (row, q) => updatePlayerRow(row, q, voted, own, open));
  refs.empty.hidden = items.length > 0;
  setText(
    refs.empty,
    refs.tab === "mine" ? (open ? "Your questions show here once you ask them." : "You asked no question here.") : "No questions yet. Be the first to ask!",
  );
  if (refs.left) {
    const left = Math.max(0, (r.limit || 0) - mine.length);
    setText(refs.left, left ? `${plural(left, "question")} left` : "You asked all your questions");
    refs.input.disabled = !left;
    refs.send.disabled = !left || !refs.input.value.trim() || refs.busy;
  }
}

/** The "New" tab: the questions sent, newest first (the server's ids carry no time: the newest with
 * the fewest votes come in `fresh` newest first, and the rest keep the top's order after them). */
function byNewest(r) {
  const fresh = (r.fresh || []).map((q) => q.id);
  const rank = (q) => (fresh.includes(q.id) ? fresh.indexOf(q.id) : fresh.length + (r.top || []).findIndex((x) => x.id === q.id));
  return (a, b) => rank(a) - rank(b);
}

function meta(q, votes) {
  return [q.name, plural(votes, "upvote"), STATE_WORDS[q.state]].filter(Boolean).join(" · ");
}

function buildPlayer(refs, r, open, actions) {
  refs.rows = new Map();
  refs.tab = "top";
  refs.counts = h("p", { class: "qa-counts", "aria-live": "off" });
  refs.nowText = h("p", { class: "qa-now-text" });
  refs.nowMeta = h("p", { class: "qa-now-meta" });
  refs.now = h("div", { class: "qa-now", role: "note", "aria-label": "On screen now" }, h("p", { class: "qa-kicker" }, "On screen now"), refs.nowText, refs.nowMeta);
  refs.tabs = new Map(
    TABS.map(([tab, label]) => [
      tab,
      h(
        "button",
        {
          type: "button",
          class: "qa-tab",
          "aria-pressed": String(tab === "top"),
          dataset: { tab },
          onclick: () => {
            refs.tab = tab;
            refs.list.scrollTop = 0;
            refs.refresh();
          },
        },
        label,
      ),
    ]),
  );
  refs.list = h("ol", { class: "qa-list", "aria-label": "Questions" });
  refs.empty = h("p", { class: "qa-empty muted" });
  refs.error = h("p", { class: "qa-error", role: "alert", hidden: true });
  refs.refresh = () => actions.refresh?.();
  const body = [
    h("header", { class: "qa-head" }, h("h2", { class: "qa-topic" }, r.prompt), refs.counts),
    refs.now,
    h("div", { class: "qa-tabs", role: "group", "aria-label": "Which questions" }, ...refs.tabs.values()),
    h("div", { class: "qa-scroll" }, refs.list, refs.empty),
  ];
  if (open) {
    refs.input = h("textarea", {
      id: `qa-text-${r.index}`,
      class: "qa-input",
      rows: 2,
      maxlength: TEXT_MAX,
      placeholder: "Your question…",
      autocomplete: "off",
    });
    refs.left = h("span", { class: "qa-left muted" });
    refs.send = h("button", { type: "submit", class: "btn primary qa-send", disabled: true }, "Ask");
    refs.input.addEventListener("input", () => {
      refs.send.disabled = refs.busy || !refs.input.value.trim();
    });
    const form = h(
      "form",
      { class: "qa-ask" },
      h("label", { class: "sr-only", htmlFor: `qa-text-${r.index}` }, "Your question"),
      refs.input,
      h("div", { class: "qa-ask-row" }, refs.left, refs.send),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = refs.input.value.trim();
      if (!text || refs.busy) return;
      refs.busy = true;
      refs.send.disabled = true;
      refs.error.hidden = true;
      actions
        .ask(text)
        .then(
          () => {
            refs.input.value = "";
            refs.tab = "mine";
          },
          (err) => {
            setText(refs.error, errorText(err));
            refs.error.hidden = false;
          },
        )
        .finally(() => {
          refs.busy = false;
          refs.refresh();
        });
    });
    body.push(form);
  } else {
    body.push(h("p", { class: "qa-closed muted" }, "Questions are closed. The host is going through them."));
  }
  body.push(refs.error);
  return h("section", { class: "qa qa-player", "aria-label": "Questions" }, ...body);
}

function playerRow(q, actions, refs) {
  const text = h("p", { class: "qa-q-text" });
  const info = h("p", { class: "qa-q-meta" });
  const badge = votesBadge("qa-vote-count");
  const vote = h("button", { type: "button", class: "qa-vote" }, badge.el);
  vote.addEventListener("click", () => {
    const id = vote.dataset.id;
    const up = vote.getAttribute("aria-pressed") !== "true";
    vote.disabled = true;
    refs.error.hidden = true;
    (up ? actions.upvote(id) : actions.unvote(id))
      .catch((err) => {
        setText(refs.error, errorText(err));
        refs.error.hidden = false;
      })
      .finally(() => {
        vote.disabled = false;
        refs.refresh();
      });
  });
  const el = h("li", { class: "qa-q", dataset: { id: q.id } }, h("div", { class: "qa-q-body" }, text, info), vote);
  return { el, text, info, vote, badge };
}

function updatePlayerRow(row, q, voted, own, open) {
  setText(row.text, q.text);
  const mine = own.has(q.id);
  setText(row.info, [mine ? "Yours" : q.name, STATE_WORDS[q.state]].filter(Boolean).join(" · "));
  setText(row.badge.n, num(q.votes));
  const on = voted.has(q.id);
  row.vote.dataset.id = q.id;
  row.vote.setAttribute("aria-pressed", String(on));
  row.vote.setAttribute("aria-label", `${on ? "Take back your upvote" : "Upvote"}: ${q.text} (${plural(q.votes, "upvote")})`);
  row.vote.hidden = mine || !open || q.state === "hidden";
  row.el.classList.toggle("voted", on);
  row.el.classList.toggle("mine", mine);
  row.el.dataset.state = q.state;
}

// ---- the big screen --------------------------------------------------------------------------

export function renderScreen(root, state) {
  const g = state.game;
  const r = g.round;
  if (!r) return root.replaceChildren();
  const open = g.phase === "open";
  const refs = mount(root, `${g.phase}:${r.index}`, (refs) => {
    refs.rows = new Map();
    refs.counts = h("span", { class: "qa-counts" });
    refs.spotText = h("p", { class: "qa-spot-text" });
    refs.spotMeta = h("p", { class: "qa-spot-meta" });
    refs.spot = h("div", { class: "qa-spot-card" }, h("p", { class: "qa-kicker" }, "Now answering"), refs.spotText, refs.spotMeta);
    refs.waiting = h(
      "div",
      { class: "qa-spot-empty" },
      h("p", { class: "qa-spot-empty-title" }, open ? "Ask your questions on your phone" : "Questions are closed"),
      h("p", { class: "muted" }, open ? `Join with the code ${g.code}, then upvote the ones you want answered.` : "The host is going through the list."),
    );
    refs.list = h("ol", { class: "qa-rank", "aria-label": "Top questions" });
    refs.none = h("p", { class: "qa-empty muted" }, "No questions yet.");
    return h(
      "section",
      { class: "qa qa-screen", "aria-label": open ? "Questions and answers" : "Questions, closed" },
      h(
        "header",
        { class: "qa-board-head" },
        h("span", { class: "qa-tag" }, "Q&A"),
        h("span", { class: "qa-phase" }, open ? "Ask and upvote on your phone" : "Questions closed"),
        h("span", { class: "qa-spacer" }),
        refs.counts,
      ),
      h("h2", { class: "qa-topic" }, r.prompt),
      h(
        "div",
        { class: "qa-board-body" },
        h("div", { class: "qa-spot" }, refs.spot, refs.waiting),
        h("div", { class: "qa-top" }, h("h3", { class: "qa-top-title" }, "Top questions"), refs.list, refs.none),
      ),
    );
  });
  setText(refs.counts, countsText(r));
  refs.spot.hidden = !r.highlight;
  refs.waiting.hidden = !!r.highlight;
  if (r.highlight) {
    setText(refs.spotText, r.highlight.text);
    setText(refs.spotMeta, meta(r.highlight, r.highlight.votes).replace(" · On screen now", ""));
  }
  const top = r.top || [];
  syncRows(
    refs.list,
    top,
    refs.rows,
    () => {
      const badge = votesBadge();
      const text = h("span", { class: "qa-rank-text" });
      const name = h("span", { class: "qa-rank-name" });
      return { el: h("li", { class: "qa-rank-row" }, badge.el, h("span", { class: "qa-rank-body" }, text, name)), badge, text, name };
    },
    (row, q) => {
      setText(row.badge.n, num(q.votes));
      setText(row.text, q.text);
      setText(row.name, q.name || "");
      row.name.hidden = !q.name;
      row.el.dataset.id = q.id;
    },
  );
  refs.none.hidden = top.length > 0;
  fitRows(refs.list);
}

/** Show only the rows that fit the list's box: the projector never scrolls, and a row cut in half
 * is worse than one left for the next glance. */
function fitRows(list) {
  const rows = [...list.children];
  for (const row of rows) row.hidden = false;
  const bottom = list.getBoundingClientRect().bottom;
  let cut = false;
  for (const row of rows) {
    cut = cut || row.getBoundingClientRect().bottom > bottom + 1;
    row.hidden = cut;
  }
}

// ---- alongside the rounds (web/static/lanes.js) -------------------------------------------------
// With `qa_alongside` the game's lane is a Q&A open all game: the phone draws it in its drawer and
// the host console in its panel with the views above (handed the lane as the round); the big screen
// shows only the highlighted question, in a banner beside the round's stage.

export const lane = {
  label: "Questions",
  badge: (r) => r.asked,
  player: renderPlayer,
  host: renderHost,
  screen: renderLaneScreen,
};

/** The highlighted question as a banner, or nothing (false: the big screen gives the round all). */
function renderLaneScreen(root, state) {
  const q = state.game.round && state.game.round.highlight;
  if (!q) {
    root.replaceChildren();
    return false;
  }
  const refs = mount(root, "lane", (refs) => {
    refs.text = h("p", { class: "qa-lane-text" });
    refs.meta = h("p", { class: "qa-lane-meta" });
    return h(
      "section",
      { class: "qa qa-lane-banner", "aria-label": "The question being answered" },
      h("span", { class: "qa-tag" }, "Q&A"),
      h("div", { class: "qa-lane-body" }, refs.text, refs.meta),
    );
  });
  setText(refs.text, q.text);
  setText(refs.meta, meta(q, q.votes).replace(" · On screen now", ""));
  return true;
}

// ---- the host ----------------------------------------------------------------------------------

const HOST_TABS = [
  ["live", "Live"],
  ["answered", "Answered"],
  ["hidden", "Hidden"],
  ["all", "All"],
];
const ACTIONS = {
  highlighted: "Show on screen",
  answered: "Answered",
  hidden: "Hide",
  asked: "Back to the list",
};

export function renderHost(root, state, tools) {
  const g = state.game;
  const r = g.round;
  if (!r) return root.replaceChildren();
  const refs = mount(root, `${g.phase}:${r.index}`, (refs) => buildHost(refs, r, tools));
  refs.round = r.index;
  refs.rerender = () => renderHost(root, state, tools);
  setText(refs.counts, countsText(r));
  refs.now.hidden = !r.highlight;
  refs.noNow.hidden = !!r.highlight;
  if (r.highlight) {
    refs.nowId = r.highlight.id;
    setText(refs.nowText, r.highlight.text);
    setText(refs.nowMeta, meta(r.highlight, r.highlight.votes).replace(" · On screen now", ""));
  }
  for (const [tab, btn] of refs.tabs) btn.setAttribute("aria-pressed", String(tab === refs.tab));
  if (refs.tab === "live") {
    const seen = new Set();
    const items = [...(r.top || []), ...(r.fresh || [])].filter((q) => !seen.has(q.id) && seen.add(q.id));
    showHostRows(refs, items, tools);
    refs.pager.hidden = true;
    setText(refs.status, items.length ? `The ${plural(items.length, "question")} the room sees` : "");
    refs.empty.hidden = items.length > 0;
  } else {
    const key = `${r.asked}:${r.votes}`;
    if (refs.pageKey === null) refs.load();
    else if (refs.pageKey !== key) refs.loadSoon();
    refs.pageKey = key;
  }
}

function buildHost(refs, r, tools) {
  refs.rows = new Map();
  refs.tab = "live";
  refs.offset = 0;
  refs.loadedAt = 0;
  refs.pageKey = null;
  refs.counts = h("p", { class: "qa-counts" });
  refs.nowText = h("p", { class: "qa-now-text" });
  refs.nowMeta = h("p", { class: "qa-now-meta" });
  const act = (state) => (e) => moderate(refs, tools, refs.nowId, state, e.currentTarget);
  refs.now = h(
    "div",
    { class: "qa-now qa-host-now" },
    h("p", { class: "qa-kicker" }, "On the big screen"),
    refs.nowText,
    refs.nowMeta,
    h(
      "div",
      { class: "qa-actions" },
      h("button", { type: "button", class: "btn primary small", onclick: act("answered") }, "Mark answered"),
      h("button", { type: "button", class: "btn secondary small", onclick: act("asked") }, "Take off screen"),
    ),
  );
  refs.noNow = h("p", { class: "qa-host-none muted" }, "No question on the big screen: press “Show on screen” on one.");
  refs.tabs = new Map(
    HOST_TABS.map(([tab, label]) => [
      tab,
      h(
        "button",
        {
          type: "button",
          class: "qa-tab",
          "aria-pressed": String(tab === "live"),
          dataset: { tab },
          onclick: () => {
            refs.tab = tab;
            refs.offset = 0;
            refs.pageKey = null;
            for (const row of refs.rows.values()) row.el.remove();
            refs.rows.clear();
            refs.rerender();
          },
        },
        label,
      ),
    ]),
  );
  refs.list = h("ol", { class: "qa-host-list", "aria-label": "Questions" });
  refs.empty = h("p", { class: "qa-empty muted" }, "No questions here.");
  refs.status = h("span", { class: "muted small", "aria-live": "polite" });
  refs.prev = h("button", { type: "button", class: "btn secondary small", disabled: true }, "Previous");
  refs.next = h("button", { type: "button", class: "btn secondary small", disabled: true }, "Next page");
  refs.pager = h("div", { class: "qa-pager" }, refs.prev, refs.next);
  refs.prev.addEventListener("click", () => {
    refs.offset = Math.max(0, refs.offset - PAGE);
    refs.load();
  });
  refs.next.addEventListener("click", () => {
    refs.offset += PAGE;
    refs.load();
  });
  refs.load = () => {
    clearTimeout(refs.timer);
    refs.timer = 0;
    refs.loadedAt = Date.now();
    const tab = refs.tab;
    const state = tab === "all" ? null : tab;
    tools.request("questions", { round: refs.round, state, offset: refs.offset }).then(
      (reply) => {
        if (!reply || refs.tab !== tab || reply.round !== refs.round) return;
        showHostRows(refs, reply.items, tools);
        refs.empty.hidden = reply.items.length > 0;
        refs.pager.hidden = reply.total <= PAGE;
        refs.prev.disabled = reply.offset <= 0;
        refs.next.disabled = reply.offset + reply.items.length >= reply.total;
        const first = reply.items.length ? reply.offset + 1 : 0;
        setText(refs.status, reply.total ? `${num(first)}–${num(reply.offset + reply.items.length)} of ${num(reply.total)}` : "");
      },
      (err) => {
        if (err.code !== "disconnected") setText(refs.status, errorText(err));
      },
    );
  };
  refs.loadSoon = () => {
    if (refs.timer) return;
    refs.timer = setTimeout(refs.load, Math.max(0, refs.loadedAt + HOST_REFRESH - Date.now()));
  };
  refs.cleanup = () => clearTimeout(refs.timer);
  return h(
    "section",
    { class: "qa qa-host", "aria-label": "Questions" },
    h("header", { class: "qa-head" }, h("h2", { class: "qa-topic" }, r.prompt), refs.counts),
    refs.now,
    refs.noNow,
    h("div", { class: "qa-tabs", role: "group", "aria-label": "Which questions" }, ...refs.tabs.values(), refs.status),
    refs.list,
    refs.empty,
    refs.pager,
  );
}

function showHostRows(refs, items, tools) {
  syncRows(
    refs.list,
    items,
    refs.rows,
    () => {
      const badge = votesBadge();
      const text = h("p", { class: "qa-q-text" });
      const info = h("p", { class: "qa-q-meta" });
      const buttons = h("div", { class: "qa-actions" });
      const el = h("li", { class: "qa-host-row" }, badge.el, h("div", { class: "qa-q-body" }, text, info), buttons);
      return { el, badge, text, info, buttons, key: "" };
    },
    (row, q) => {
      setText(row.badge.n, num(q.votes));
      setText(row.text, q.text);
      setText(row.info, [q.name, STATE_WORDS[q.state]].filter(Boolean).join(" · "));
      row.el.dataset.id = q.id;
      row.el.dataset.state = q.state;
      if (row.key !== q.state) {
        row.key = q.state;
        const wanted = q.state === "asked" ? ["highlighted", "answered", "hidden"] : q.state === "highlighted" ? ["answered", "asked"] : ["asked", "highlighted"];
        row.buttons.replaceChildren(
          ...wanted.map((state) =>
            h(
              "button",
              {
                type: "button",
                class: ["btn", "small", state === "highlighted" ? "primary" : state === "hidden" ? "danger" : "secondary"],
                "aria-label": `${ACTIONS[state]}: ${q.text}`,
                dataset: { state },
                onclick: (e) => moderate(refs, tools, row.el.dataset.id, state, e.currentTarget),
              },
              ACTIONS[state],
            ),
          ),
        );
      }
    },
  );
}

function moderate(refs, tools, id, state, btn) {
  if (!id) return;
  btn.disabled = true;
  tools
    .send("moderate", { round: refs.round, question: id, state })
    .then(
      () => {
        if (refs.tab !== "live") refs.load();
      },
      (err) => setText(refs.status, errorText(err)),
    )
    .finally(() => {
      if (btn.isConnected) btn.disabled = false;
    });
}
