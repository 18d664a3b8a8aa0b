// The registry of engagement types in the browser: each type's module (/types/<slug>/round.js) is
// the whole of the type here, and the pages and the socket name no type themselves. The pages own
// the lobby, the leaderboard and the podium; a type's module owns its round phases. It exports:
//
//   phases     {phase: {label, words(game, who), end?, buzz?}}, in the type's order: `label` for the
//              host console, `words` for screen readers (`who`: "player" or "board"), `end` the host's
//              button that closes the phase early (the last phase, the results, has none), `buzz`
//              whether phones vibrate when it opens
//   commands   (ctx) => the player's actions, given ctx = {send(type, fields), sync(), state(), refresh()}
//   reduce     (state, msg) => its part of each event (before the socket applies its own) and each
//              update the core does not know (`progress`); false drops an update that is not for now
//   renderPlayer(root, state, actions), renderScreen(root, state), renderHost(root, state, tools):
//              tools = {request(type, fields), send(type, fields)}: the host's requests (`results`)
//              and the type's own host commands
//   revealSeconds?(round) how long the big screen's results take before the leaderboard joins them
//   scored?    false for a type that keeps no scores (a poll): the pages show no leaderboard and no podium
//
// (The model is Datasette's registerPlugin: a type is registered under its slug when its module loads,
// or by a page or test that has the module already.)
//
// A game may mix types: each round's view names its `type` (the game's `type` is the lobby's and a
// single-type game's), so the pages render every round with its own type's module, loading it when
// the first round of that type opens.

import { h } from "./ui.js";

const registered = new Map(); // slug -> module
const loading = new Map(); // slug -> Promise<module>
const missed = new Set(); // slugs whose messages arrived before their module did

/** The phases every game has, whatever its type. */
const CORE_PHASES = {
  lobby: {
    label: "Lobby",
    words: (game, who) => (who === "player" ? "You're in the lobby. The game starts soon." : "The lobby is open."),
  },
  finished: { label: "Final results", words: () => "Game over: the final results." },
};

function fallbackModule(slug) {
  const view = (root, state) => {
    const r = state.game.round;
    root.replaceChildren(
      h(
        "div",
        { class: "card center" },
        h("p", { class: "muted" }, `This device can't show "${slug}" rounds.`),
        r && r.prompt ? h("p", { class: "prompt" }, r.prompt) : null,
      ),
    );
  };
  return { phases: {}, renderPlayer: view, renderScreen: view, renderHost: view, fallback: true };
}

export function registerType(slug, mod) {
  registered.set(slug, mod);
  return mod;
}

/** The module of a type, if it has been registered (null while it loads). */
export function typeOf(slug) {
  return registered.get(slug) || null;
}

export function loadType(slug) {
  if (registered.has(slug)) return Promise.resolve(registered.get(slug));
  if (!loading.has(slug)) {
    const url = `/types/${encodeURIComponent(slug)}/round.js`;
    const p = import(url)
      .catch((err) => {
        console.error("round module failed to load", err);
        return fallbackModule(slug);
      })
      .then((mod) => registerType(slug, mod));
    loading.set(slug, p);
  }
  return loading.get(slug);
}

/** The slug of the type that plays the game's current round: the round's own, else the game's. */
export function slugOf(game) {
  return (game.round && game.round.type) || game.type;
}

/**
 * The socket's `reduce` hook: hands a message to the current round's type; a `phase_changed` that
 * opens a round of another type goes to that type too (the one leaving forgets its round). A message
 * that comes before the type's module is remembered, so `roundModule` asks for a fresh snapshot once
 * the module is here.
 */
export function reduce(state, msg) {
  const slugs = new Set([slugOf(state.game)]);
  if (msg.type === "phase_changed" && msg.round && msg.round.type) slugs.add(msg.round.type);
  let keep = true;
  for (const slug of slugs) {
    const mod = registered.get(slug);
    if (!mod) {
      missed.add(slug);
      keep = false;
    } else if (mod.reduce && mod.reduce(state, msg) === false) keep = false;
  }
  return keep;
}

/** The module of the socket's current round, or null while it loads: `ready(module)` runs once it is here. */
export function roundModule(socket, ready) {
  const slug = slugOf(socket.state.game);
  if (registered.has(slug)) return registered.get(slug);
  if (!loading.has(slug)) {
    loadType(slug).then((mod) => {
      if (missed.delete(slug)) socket.sync();
      ready(mod);
    });
  }
  return null;
}

/** The game's current phase as declared: the core's (lobby, finished) or its type's; {} if unknown. */
export function phaseOf(game) {
  const mod = typeOf(slugOf(game));
  return CORE_PHASES[game.phase] || (mod && mod.phases && mod.phases[game.phase]) || {};
}

/** What a screen reader announces for the phase (`who`: "player" or "board"). */
export function phaseWords(game, who = "board") {
  const phase = phaseOf(game);
  return phase.words ? phase.words(game, who) : "";
}

export function phaseLabel(game) {
  return phaseOf(game).label || game.phase;
}

/** The phase as the core's pages colour it: lobby, live (a round runs), results or finished. */
export function phaseState(game) {
  if (game.phase === "lobby" || game.phase === "finished") return game.phase;
  return inResults(game) ? "results" : "live";
}

/** Whether the current round's type (else the game's) keeps scores (until its module is here, it is taken to). */
export function keepsScore(game) {
  // Between rounds (the lobby, the podium) a mixed game keeps score if any of its rounds scored.
  if (!game.round && (game.leaderboard || []).some((p) => p.score > 0)) return true;
  const mod = typeOf(slugOf(game));
  return !mod || mod.scored !== false;
}

/** Whether the game is in its type's last phase: a round's results, with the leaderboard. */
export function inResults(game) {
  const mod = typeOf(slugOf(game));
  const order = Object.keys((mod && mod.phases) || {});
  return order.length > 0 && game.phase === order[order.length - 1];
}
