// Loads the engagement type's round module (/types/<type>/round.js), which renders the round
// phases; the pages render the lobby, the leaderboard and the podium themselves.

import { h } from "./ui.js";

const cache = new Map();

function fallbackModule(type) {
  const view = (root, state) => {
    const r = state.game.round;
    root.replaceChildren(
      h(
        "div",
        { class: "card center" },
        h("p", { class: "muted" }, `This device can't show "${type}" rounds.`),
        r && r.prompt ? h("p", { class: "prompt" }, r.prompt) : null,
      ),
    );
  };
  return { renderPlayer: view, renderScreen: view, renderHost: view, fallback: true };
}

export function loadType(type) {
  const name = type || "answer-vote";
  if (!cache.has(name)) {
    const p = import(`/types/${encodeURIComponent(name)}/round.js`).catch((err) => {
      console.error("round module failed to load", err);
      return fallbackModule(name);
    });
    cache.set(name, p);
  }
  return cache.get(name);
}
