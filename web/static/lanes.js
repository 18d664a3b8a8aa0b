// A type that runs alongside the rounds (a Q&A open all game long): the game's `lane` (its view, kept
// up to date by the socket's `lane` updates) and your part of it (`you.lane`), drawn beside whatever
// round is on by that type's module. The module exports `lane` = {label, badge?(view), player(root,
// state, actions), screen(root, state) => whether it shows anything, host(root, state, tools)}, and
// draws the lane with its round code: it is handed the lane as if it were the round (`laneState`).
// The pages name no type: they give the lane a slot of its own that never covers the round's prompt,
// timer, counts or controls (a drawer the phone opens, a banner beside the big screen's stage, a
// panel of the host console).

import { loadType, typeOf } from "./types.js";

/** The lane as its module sees a round: the lane's view as `game.round` (with its phase), and your
 * part of it as `you` (the same object each time, so what its commands remember stays). */
export function laneState(s) {
  const lane = s.game.lane;
  s.you = s.you || {};
  s.you.lane = s.you.lane || {};
  return { seq: s.seq, now: s.now, game: { ...s.game, round: lane, phase: lane.phase }, you: s.you.lane };
}

/** The module of the game's lane, or null (no lane, a module without `lane`, or still loading:
 * `ready()` runs once it is here). */
export function laneModule(game, ready) {
  if (!game.lane) return null;
  const mod = typeOf(game.lane.type);
  if (mod) return mod.lane ? mod : null;
  loadType(game.lane.type).then(ready);
  return null;
}
