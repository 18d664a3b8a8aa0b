// Pick a number's rounds in the browser: the whole type on this side (web/static/types.js says what a
// type's module exports). Phones pick a number; the big screen and the host watch the count, then the
// lowest number nobody else picked.

import { h } from "/static/ui.js";

const words = (text) => (game) => `Round ${game.round ? game.round.index + 1 : ""}. ${text}`;

export const phases = {
  picking: { label: "Picking", end: "End picking now", buzz: true, words: words("Pick a number.") },
  reveal: { label: "Reveal", words: words("The winning number is out.") },
};

export function reduce(state, msg) {
  const r = state.game.round;
  if (msg.type === "progress") {
    if (!r || r.index !== msg.round) return false;
    r.picked = msg.picked;
    r.eligible = msg.eligible;
    return true;
  }
  if (msg.type === "phase_changed" && state.you && (!msg.round || !r || msg.round.index !== r.index)) {
    state.you.pick = null;
  }
  return true;
}

export function commands({ send, state, refresh }) {
  return {
    pick(number) {
      const round = state().game.round.index;
      return send("pick", { round, number }).then((ack) => {
        state().you.pick = number;
        refresh();
        return ack;
      });
    },
  };
}

function winnerLine(r) {
  return r.winner
    ? h("p", { class: "pick-winner" }, `${r.winner.nickname} wins with ${r.winner.number}`)
    : h("p", { class: "pick-winner" }, "Nobody picked a number of their own.");
}

function board(root, state) {
  const r = state.game.round;
  root.replaceChildren(
    h(
      "section",
      { class: "pick", dataset: { phase: r.phase } },
      h("h2", { class: "pick-prompt" }, r.prompt),
      r.phase === "reveal" ? winnerLine(r) : h("p", { class: "pick-count" }, `${r.picked} of ${r.eligible} picked`),
    ),
  );
}

export function renderPlayer(root, state, actions) {
  const r = state.game.round;
  const mine = state.you.pick;
  const key = `${r.index}:${r.phase}:${mine}`;
  if (root.dataset.key === key) return;
  root.dataset.key = key;
  let body;
  if (r.phase === "reveal") body = winnerLine(r);
  else if (mine != null) body = h("p", { class: "pick-mine" }, `You picked ${mine}`);
  else {
    body = h("div", { class: "pick-numbers" });
    for (let n = 1; n <= r.highest; n++) {
      body.append(h("button", { type: "button", class: "btn", dataset: { number: String(n) }, onclick: () => actions.pick(n) }, String(n)));
    }
  }
  root.replaceChildren(h("section", { class: "pick" }, h("h2", { class: "pick-prompt" }, r.prompt), body));
}

export const renderScreen = board;
export const renderHost = board;
