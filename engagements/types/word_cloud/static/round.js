// The word cloud in the browser: the whole type on this side (web/static/types.js says what a type's
// module exports). Phases: open (everyone sends up to `limit` words or short phrases, one at a
// time), results (the final cloud). The big screen and the host watch the cloud grow from
// `progress`: the most-sent words, sized by their counts and laid out by layout.js; the host can hide
// a word. A phone sees only its own words (and, in the results, how often each was sent): it never
// gets anyone else's. A word cloud keeps no scores (`scored: false`).
//
// Every view is the same size whatever the room: at most 60 words (the server's TOP_SHOWN) in the
// cloud, a phone's own words at most 5. The DOM of a phase is built once per (round, phase,
// sub-state); updates move the words and the counts.

import { errorText as coreErrorText, h, num, plural, setText, toast } from "/static/ui.js";
import { countdown, setDeadline } from "/static/countdown.js";
import { mount, roundCss } from "/static/rounds.js";
import { LINE, layout } from "./layout.js";

export const scored = false;

// Colours for the words, each with at least 4.5:1 contrast on the page's dark background.
const COLOURS = ["#a78bfa", "#22d3ee", "#f472b6", "#fcd34d", "#34d399", "#fb923c", "#c4b5fd", "#f4f5fc"];

function tagOf(game) {
  const r = game.round;
  if (!r) return "";
  return game.rounds ? `Question ${r.index + 1} of ${game.rounds}` : `Question ${r.index + 1}`;
}

function wordsOf(n) {
  return n === 1 ? "1 word" : `${num(n)} words`;
}

export const phases = {
  open: {
    label: "Word cloud",
    end: "Close the cloud now",
    buzz: true,
    words: (g, who) => {
      const r = g.round;
      if (!r) return "";
      return who === "player"
        ? `${tagOf(g)}. ${r.prompt} Send up to ${wordsOf(r.limit)}.`
        : `${tagOf(g)}. The word cloud is open: ${r.prompt}`;
    },
  },
  results: {
    label: "Results",
    words: (g) => `${tagOf(g)}. The word cloud has closed.`,
  },
};

const ERRORS = {
  already_sent: "You already sent that one: try another.",
  no_words_left: "You've sent all your words.",
  no_such_option: "Nobody has sent that word.",
};
const errorText = (err) => coreErrorText(err, ERRORS);

/** A new round forgets your words; `progress` moves the counts (and the board's words) of its round. */
export function reduce(state, msg) {
  const r = state.game.round;
  if (msg.type === "progress") {
    if (!r || r.index !== msg.round) return false;
    for (const key of ["entries", "players", "eligible", "hidden"]) r[key] = msg[key];
    if ("words" in msg) r.words = msg.words; // a phone's progress has none: it keeps its own null
    return true;
  }
  if (msg.type === "phase_changed" && state.you && (!msg.round || !r || msg.round.index !== r.index)) {
    state.you.words = null;
  }
  return true;
}

/** The player's one command: a word, counted once acknowledged (the ack names its counted form). */
export function commands({ send, sync, state, refresh }) {
  return {
    word(text) {
      const index = state().game.round.index;
      return send("word", { round: index, text }).then(
        (ack) => {
          const s = state();
          if (s.game.round && s.game.round.index === index) {
            const mine = (s.you && s.you.words) || [];
            if (!mine.some((w) => w.word === ack.word)) s.you.words = [...mine, { word: ack.word, count: null }];
            refresh();
          }
          return ack;
        },
        (err) => {
          if (err.code === "no_words_left") sync(); // this phone missed an ack: the snapshot has them
          throw err;
        },
      );
    },
  };
}

roundCss("word-cloud", import.meta.url);

// ---- shared ----------------------------------------------------------------------------------

/** The round's tag, what to do now and, while the cloud is open, its countdown. */
function head(refs, g, label, timed) {
  refs.timer = timed ? countdown(g.round.deadline, "wc-timer") : null;
  return h(
    "div",
    { class: "wc-head" },
    h("span", { class: "wc-tag" }, tagOf(g)),
    h("span", { class: "wc-phase" }, label),
    h("span", { class: "wc-spacer" }),
    refs.timer,
  );
}

function statsText(r) {
  const hidden = r.hidden ? ` · ${plural(r.hidden, "word")} hidden` : "";
  return `${wordsOf(r.entries ?? 0)} from ${num(r.players ?? 0)} of ${plural(r.eligible ?? 0, "player")}${hidden}`;
}

/** A stable colour for a word, so it keeps its colour as the cloud grows. */
function colourOf(word) {
  let x = 2166136261;
  for (const ch of word) x = Math.imul(x ^ ch.codePointAt(0), 16777619);
  return COLOURS[Math.abs(x) % COLOURS.length];
}

// ---- the cloud (big screen and host) ---------------------------------------------------------

/** The words' widths at a font size of 1px, measured in the cloud's own font. */
function measurer(el) {
  const style = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = `${style.fontWeight} 100px ${style.fontFamily}`;
  const cache = new Map();
  return (text) => {
    if (!cache.has(text)) cache.set(text, ctx.measureText(text).width / 100);
    return cache.get(text);
  };
}

/**
 * The cloud's element: a list of words, laid out again when the words or the element's size change.
 * `min`: the smallest font size in px (relative to the element's height when a function).
 */
function cloud(refs, min) {
  const list = h("ul", { class: "wc-words", "aria-label": "The most sent words" });
  const empty = h("p", { class: "wc-empty" }, "The words appear here as they arrive.");
  const more = h("p", { class: "wc-more", hidden: true });
  const el = h("div", { class: "wc-cloud" }, list, empty, more);
  const state = { words: [], key: "", size: "" };
  const draw = () => {
    const box = { width: list.clientWidth, height: list.clientHeight };
    const key = `${box.width}x${box.height}:${JSON.stringify(state.words)}`;
    if (!box.width || !box.height || key === state.key) return;
    state.key = key;
    const smallest = typeof min === "function" ? min(box) : min;
    const { placed, left } = layout(state.words, box, measurer(list), { min: smallest });
    list.replaceChildren(
      ...placed.map((p) => {
        const li = h(
          "li",
          { class: "wc-word", style: { color: colourOf(p.text) } },
          p.text,
          h("span", { class: "sr-only" }, `: ${num(p.count)}`),
        );
        li.style.left = `${p.x.toFixed(1)}px`;
        li.style.top = `${p.y.toFixed(1)}px`;
        li.style.fontSize = `${p.size.toFixed(1)}px`;
        li.style.lineHeight = String(LINE);
        li.dataset.count = String(p.count);
        return li;
      }),
    );
    empty.hidden = state.words.length > 0;
    more.hidden = left === 0;
    setText(more, left ? `+ ${plural(left, "more word")}` : "");
  };
  const observer = new ResizeObserver(() => draw());
  refs.cleanup = () => observer.disconnect();
  refs.mounted = () => {
    observer.observe(list);
    draw();
  };
  refs.setWords = (words) => {
    state.words = words || [];
    draw();
  };
  return el;
}

function board(root, state, cls, tools) {
  const g = state.game;
  const r = g.round;
  if (!r) return root.replaceChildren();
  const open = g.phase === "open";
  const host = cls === "wc-host";
  const refs = mount(root, `${g.phase}:${r.index}`, (refs) => {
    refs.stats = h("p", { class: "wc-stats", "aria-live": "off" });
    refs.hide = host ? h("ul", { class: "wc-hide-list", "aria-label": "Hide a word" }) : null;
    const smallest = host ? 12 : (box) => Math.max(16, Math.round(box.height / 30));
    return h(
      "section",
      { class: ["wc", cls], "aria-label": open ? "Live word cloud" : "Word cloud results" },
      h(
        "header",
        { class: "wc-board-head" },
        head(refs, g, open ? `Send up to ${wordsOf(r.limit)} on your phone` : "Results", open),
        h("h2", { class: "wc-prompt" }, r.prompt),
      ),
      cloud(refs, smallest),
      refs.stats,
      host
        ? h(
            "section",
            { class: "wc-hide", "aria-label": "Hide words" },
            h("h3", { class: "wc-hide-title" }, "Hide a word from the screen and the results"),
            refs.hide,
          )
        : null,
    );
  });
  if (refs.timer) setDeadline(refs.timer, r.deadline);
  refs.setWords(r.words);
  setText(refs.stats, statsText(r));
  if (host) hideButtons(refs, r, tools);
}

/** The host's buttons, one per word shown: hiding one is final for the round, so it asks first. */
function hideButtons(refs, r, tools) {
  const key = JSON.stringify((r.words || []).map(([w]) => w));
  if (refs.hideKey === key) return;
  refs.hideKey = key;
  refs.hide.replaceChildren(
    ...(r.words || []).map(([word, count]) =>
      h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            class: "wc-hide-word",
            "aria-label": `Hide “${word}” (${plural(count, "time")})`,
            onclick: async (e) => {
              if (!confirm(`Hide “${word}” from the big screen and the results? It stays hidden for this question.`)) return;
              const btn = e.currentTarget;
              btn.disabled = true;
              try {
                await tools.send("hide", { round: r.index, word });
                toast(`“${word}” is hidden.`, "ok", 2000);
              } catch (err) {
                toast(errorText(err), "error");
                if (btn.isConnected) btn.disabled = false;
              }
            },
          },
          h("span", { class: "wc-hide-text" }, word),
          h("span", { class: "wc-hide-count" }, num(count)),
          h("span", { class: "wc-hide-x", "aria-hidden": "true" }, "✕"),
        ),
      ),
    ),
  );
}

export function renderScreen(root, state) {
  board(root, state, "wc-screen");
}

export function renderHost(root, state, tools) {
  board(root, state, "wc-host", tools);
}

// ---- the phone -------------------------------------------------------------------------------

function mineList(words, results) {
  return (words || []).map((w) =>
    h(
      "li",
      { class: ["wc-mine-word", w.hidden && "hidden"] },
      h("span", { class: "wc-mine-text" }, w.word),
      results
        ? h("span", { class: "wc-mine-count" }, w.hidden ? "hidden by the host" : `sent ${plural(w.count ?? 0, "time")}`)
        : null,
    ),
  );
}

export function renderPlayer(root, state, actions) {
  const g = state.game;
  const r = g.round;
  if (!r) return root.replaceChildren();
  const mine = (state.you && state.you.words) || [];
  if (g.phase === "results") {
    const refs = mount(root, `r:${r.index}`, (refs) => {
      refs.mine = h("ul", { class: "wc-mine", "aria-label": "Your words" });
      refs.stats = h("p", { class: "wc-stats" });
      return h(
        "section",
        { class: "wc wc-player", "aria-label": "Results" },
        head(refs, g, "Results", false),
        h("h2", { class: "wc-prompt" }, r.prompt),
        h("p", { class: "wc-done-title" }, "The cloud is on the big screen"),
        refs.mine,
        refs.stats,
      );
    });
    refs.mine.replaceChildren(...mineList(mine, true));
    refs.mine.hidden = mine.length === 0;
    setText(refs.stats, statsText(r));
    return;
  }
  const done = mine.length >= r.limit;
  const refs = mount(root, `o:${r.index}:${done}`, (refs) => {
    refs.mine = h("ul", { class: "wc-mine", "aria-label": "Your words" });
    refs.left = h("p", { class: "wc-left" });
    if (done) {
      return h(
        "section",
        { class: "wc wc-player wc-done", "aria-label": "Your words" },
        h("p", { class: "wc-done-title" }, "All your words are in!"),
        h("h2", { class: "wc-prompt" }, r.prompt),
        refs.mine,
        h("p", { class: "muted" }, "Watch them on the big screen."),
      );
    }
    const input = h("input", {
      class: "wc-input",
      type: "text",
      name: "word",
      maxlength: String(r.chars * 2), // the server counts characters once normalised
      placeholder: "A word or a short phrase",
      autocomplete: "off",
      autocapitalize: "none",
      enterkeyhint: "send",
      "aria-label": "Your word",
    });
    const btn = h("button", { class: "btn primary big wc-send", type: "submit" }, "Send");
    const err = h("p", { class: "wc-error", role: "alert", hidden: true });
    const form = h(
      "form",
      {
        class: "wc-form",
        onsubmit: (e) => {
          e.preventDefault();
          const text = input.value.trim();
          if (!text) {
            setText(err, "Type a word first.");
            err.hidden = false;
            input.focus();
            return;
          }
          btn.disabled = true;
          err.hidden = true;
          actions.word(text).then(
            () => {
              input.value = "";
              btn.disabled = false;
              if (input.isConnected) input.focus();
            },
            (error) => {
              setText(err, errorText(error));
              err.hidden = false;
              btn.disabled = false;
            },
          );
        },
      },
      h("div", { class: "wc-form-row" }, input, btn),
      err,
    );
    return h(
      "section",
      { class: "wc wc-player", "aria-label": "Send your words" },
      head(refs, g, "Word cloud", true),
      h("h2", { class: "wc-prompt" }, r.prompt),
      h("p", { class: "muted wc-how" }, `Send up to ${wordsOf(r.limit)}, one at a time.`),
      form,
      refs.left,
      refs.mine,
    );
  });
  if (refs.timer) setDeadline(refs.timer, r.deadline);
  refs.mine.replaceChildren(...mineList(mine, false));
  refs.mine.hidden = mine.length === 0;
  setText(refs.left, `${num(Math.max(0, r.limit - mine.length))} of ${wordsOf(r.limit)} left`);
}
