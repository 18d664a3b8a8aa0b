// The answer-then-vote engagement type: how its rounds look on a phone, the big screen and the
// host console. Phases: question (everyone answers a prompt), voting (everyone votes for the
// best answer, never their own), results (answers with their authors, voters and points).
//
// Each render function is called on every state change; the DOM of a phase is built once per
// (phase, round, sub-state) and afterwards only counters are updated in place, so a half-typed
// answer survives a presence event and the reveal animation plays once.

import { avatar, errorText, h, plural, session, setText } from "/static/ui.js";
import { countdown, setDeadline } from "/static/countdown.js";

const MAX_ANSWER = 140;

(function ensureCss() {
  if (document.querySelector("link[data-round-css='answer-vote']")) return;
  const href = new URL("./round.css", import.meta.url).href;
  document.head.append(h("link", { rel: "stylesheet", href, dataset: { roundCss: "answer-vote" } }));
})();

// ---- shared helpers -------------------------------------------------------------------------

const mounts = new WeakMap();

/** Build the phase's DOM once per key; returns the refs the update code needs. */
function mount(root, key, build) {
  let m = mounts.get(root);
  if (!m || m.key !== key || !root.contains(m.el)) {
    const refs = {};
    const el = build(refs);
    root.replaceChildren(el);
    m = { key, el, refs };
    mounts.set(root, m);
  }
  return m.refs;
}

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
  setText(refs.progressText, `${d} of ${t} ${noun} in`);
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
  return n > 0 ? `+${n}` : "0";
}

function resultCard(res, { me = null, index = 0, total = 1, big = false } = {}) {
  const mine = me && res.author && res.author.id === me;
  const winner = index === 0 && res.votes > 0;
  const voters = res.voters || [];
  return h(
    "li",
    {
      class: ["av-result", mine && "mine", winner && "winner", big && "big"],
      // Reveal from the fewest votes up to the winner.
      style: { "--reveal": String(total - 1 - index) },
      dataset: { option: res.option },
    },
    h(
      "div",
      { class: "av-result-main" },
      h("div", { class: "av-result-text" }, res.text),
      h(
        "div",
        { class: "av-result-author" },
        res.author ? avatar(res.author.nickname, "avatar-sm") : null,
        h("span", null, res.author ? res.author.nickname : "?"),
        mine ? h("span", { class: "av-you" }, "you") : null,
      ),
      voters.length
        ? h("div", { class: "av-voters" }, h("span", { class: "muted" }, "Voted by "), voters.join(", "))
        : h("div", { class: "av-voters muted" }, "No votes"),
    ),
    h(
      "div",
      { class: "av-result-side" },
      h("div", { class: "av-votes" }, h("b", null, String(res.votes)), res.votes === 1 ? " vote" : " votes"),
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

// ---- the player's phone ---------------------------------------------------------------------

export function renderPlayer(root, state, actions) {
  const g = state.game;
  const r = g.round;
  if (!r) {
    root.replaceChildren();
    return;
  }
  if (g.phase === "question") playerQuestion(root, state, actions);
  else if (g.phase === "voting") playerVoting(root, state, actions);
  else if (g.phase === "results") playerResults(root, state);
  else root.replaceChildren();
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
          h("div", { class: "av-done-title" }, "Answer in!"),
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
    return h("section", { class: "av av-player av-question" }, ...parts);
  });
  setDeadline(refs.timer, r.deadline);
  setProgress(refs, r.answered, r.eligible, "answers");
}

function playerVoting(root, state, actions) {
  const g = state.game;
  const r = g.round;
  const you = state.you || {};
  const me = you.player ? you.player.id : "";
  const voted = you.vote != null;
  const refs = mount(root, `v:${r.index}:${voted}:${you.answer_option ?? ""}`, (refs) => {
    const parts = [head(refs, g, r, "Vote"), h("h2", { class: "av-prompt small" }, r.prompt)];
    const options = shuffled(
      (r.options || []).filter((o) => o.id !== you.answer_option),
      `${me}:${r.index}`,
    );
    if (voted) {
      const chosen = (r.options || []).find((o) => o.id === you.vote);
      parts.push(
        h(
          "div",
          { class: "av-done", dataset: { state: "voted" } },
          h("div", { class: "av-check", "aria-hidden": "true" }, "✓"),
          h("div", { class: "av-done-title" }, "Vote in!"),
          chosen ? h("blockquote", { class: "av-mine" }, chosen.text) : null,
          h("p", { class: "muted" }, "Results on the big screen soon."),
        ),
        progress(refs),
      );
    } else if (!options.length) {
      parts.push(
        h("div", { class: "av-done" }, h("p", { class: "muted" }, "Nothing to vote for this time — sit tight.")),
        progress(refs),
      );
    } else {
      const err = inlineError();
      const buttons = [];
      const pick = (opt, btn) => {
        if (buttons.some((b) => b.disabled)) return;
        for (const b of buttons) b.disabled = true;
        btn.classList.add("chosen");
        showError(err, "");
        actions.vote(opt.id).catch((error) => {
          for (const b of buttons) b.disabled = false;
          btn.classList.remove("chosen");
          showError(err, errorText(error));
        });
      };
      const list = h("div", { class: "av-ballot", role: "list" });
      options.forEach((opt, i) => {
        const btn = h(
          "button",
          { class: "av-option", type: "button", role: "listitem", dataset: { option: opt.id } },
          h("span", { class: "av-letter", "aria-hidden": "true" }, LETTERS[i] || "•"),
          h("span", { class: "av-option-text" }, opt.text),
        );
        btn.addEventListener("click", () => pick(opt, btn));
        buttons.push(btn);
        list.append(btn);
      });
      parts.push(h("p", { class: "av-instr" }, "Tap the answer you like best"), list, err, progress(refs, "subtle"));
    }
    return h("section", { class: "av av-player av-voting" }, ...parts);
  });
  setDeadline(refs.timer, r.deadline);
  setProgress(refs, r.voted, r.eligible, "votes");
}

function playerResults(root, state) {
  const g = state.game;
  const r = g.round;
  const you = state.you || {};
  const me = you.player ? you.player.id : null;
  const refs = mount(root, `r:${r.index}`, (refs) => {
    const results = r.results || [];
    const mine = results.find((x) => x.author && x.author.id === me);
    refs.score = h("b", { class: "av-score" });
    refs.rank = h("b", { class: "av-rank" });
    const summary = mine
      ? h(
          "div",
          { class: ["av-summary", mine.points > 0 && "good"] },
          h("div", { class: "av-summary-big" }, pointsText(mine.points)),
          h("div", null, `Your answer got ${plural(mine.votes, "vote")}`),
        )
      : h(
          "div",
          { class: "av-summary" },
          h("div", { class: "av-summary-big" }, "0"),
          h("div", null, "You didn't answer this one"),
        );
    return h(
      "section",
      { class: "av av-player av-results-view" },
      h("div", { class: "av-head" }, h("span", { class: "av-tag" }, roundTag(g, r)), h("span", { class: "av-phase" }, "Results")),
      h("h2", { class: "av-prompt small" }, r.prompt),
      summary,
      h(
        "div",
        { class: "av-standing" },
        h("div", null, h("span", { class: "muted" }, "Score "), refs.score),
        h("div", null, h("span", { class: "muted" }, "Rank "), refs.rank),
      ),
      resultsList(results, { me }),
      h("p", { class: "muted center" }, "Waiting for the host to continue…"),
    );
  });
  const p = you.player || {};
  setText(refs.score, p.score ?? 0);
  setText(refs.rank, p.rank ? `#${p.rank}` : "–");
}

// ---- the big screen -------------------------------------------------------------------------

export function renderScreen(root, state) {
  const g = state.game;
  const r = g.round;
  if (!r) {
    root.replaceChildren();
    return;
  }
  if (g.phase === "question") {
    const refs = mount(root, `q:${r.index}`, (refs) =>
      h(
        "section",
        { class: "av av-screen av-question" },
        head(refs, g, r, "Answer on your phone"),
        h("h1", { class: "av-prompt xl" }, r.prompt),
        progress(refs, "xl"),
      ),
    );
    setDeadline(refs.timer, r.deadline);
    setProgress(refs, r.answered, r.eligible, "answers");
  } else if (g.phase === "voting") {
    const refs = mount(root, `v:${r.index}`, (refs) => {
      const grid = h("ol", { class: "av-grid" });
      (r.options || []).forEach((opt, i) =>
        grid.append(
          h(
            "li",
            { class: "av-card", style: { "--i": String(i) } },
            h("span", { class: "av-letter" }, LETTERS[i] || "•"),
            h("span", { class: "av-card-text" }, opt.text),
          ),
        ),
      );
      if (!(r.options || []).length) grid.append(h("li", { class: "av-empty" }, "No answers to vote on."));
      return h(
        "section",
        { class: "av av-screen av-voting" },
        head(refs, g, r, "Vote on your phone"),
        h("h2", { class: "av-prompt lg" }, r.prompt),
        grid,
        progress(refs, "xl"),
      );
    });
    setDeadline(refs.timer, r.deadline);
    setProgress(refs, r.voted, r.eligible, "votes");
  } else if (g.phase === "results") {
    mount(root, `r:${r.index}`, () =>
      h(
        "section",
        { class: "av av-screen av-results-view" },
        h("div", { class: "av-head" }, h("span", { class: "av-tag" }, roundTag(g, r)), h("span", { class: "av-phase" }, "Results")),
        h("h2", { class: "av-prompt lg" }, r.prompt),
        resultsList(r.results, { cls: "reveal", big: true }),
      ),
    );
  } else {
    root.replaceChildren();
  }
}

// ---- the host console -----------------------------------------------------------------------

export function renderHost(root, state) {
  const g = state.game;
  const r = g.round;
  if (!r) {
    root.replaceChildren();
    return;
  }
  const phase = g.phase;
  const refs = mount(root, `${phase}:${r.index}`, (refs) => {
    const parts = [head(refs, g, r, null), h("h2", { class: "av-prompt" }, r.prompt)];
    if (phase === "question") {
      parts.push(progress(refs));
    } else if (phase === "voting") {
      parts.push(progress(refs));
      const list = h("ol", { class: "av-host-options" });
      for (const opt of r.options || []) list.append(h("li", null, opt.text));
      parts.push(h("h3", { class: "av-sub" }, "Answers in the vote"), list);
    } else if (phase === "results") {
      parts.push(resultsList(r.results, { cls: "compact" }));
    }
    return h("section", { class: `av av-host av-${phase}` }, ...parts);
  });
  setDeadline(refs.timer, r.deadline);
  if (refs.progressText) {
    if (phase === "question") setProgress(refs, r.answered, r.eligible, "answers");
    else setProgress(refs, r.voted, r.eligible, "votes");
  }
}
