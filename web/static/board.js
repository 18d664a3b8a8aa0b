// The generic parts every game has, whatever its type: the lobby's players, the leaderboard and
// the final podium. Pages own these; the engagement type renders its own round phases.

import { avatar, h, ordinal, setText } from "./ui.js";

/** A leaderboard list: [{id, nickname, score, rank}], `me` highlighted. */
export function leaderboard(rows, { me = null, limit = 10, cls = "" } = {}) {
  const list = h("ol", { class: ["leaderboard", cls] });
  for (const row of (rows || []).slice(0, limit)) {
    list.append(
      h(
        "li",
        { class: ["lb-row", row.id === me && "me", row.rank <= 3 && `top top-${row.rank}`], dataset: { id: row.id } },
        h("span", { class: "lb-rank" }, String(row.rank)),
        avatar(row.nickname),
        h("span", { class: "lb-name" }, row.nickname),
        h("span", { class: "lb-score" }, String(row.score)),
      ),
    );
  }
  if (!list.children.length) list.append(h("li", { class: "lb-empty" }, "No scores yet"));
  return list;
}

const MEDALS = { 1: "1st", 2: "2nd", 3: "3rd" };

/** The podium: the first three rows of the leaderboard (ties share a rank), 2nd | 1st | 3rd. */
export function podium(rows, { me = null } = {}) {
  const top = (rows || []).slice(0, 3);
  const slots = [top[1], top[0], top[2]];
  const places = ["second", "first", "third"];
  const el = h("div", { class: "podium", role: "list", "aria-label": "Podium" });
  slots.forEach((row, i) => {
    if (!row) {
      el.append(h("div", { class: ["podium-slot", places[i], "empty"], "aria-hidden": "true" }));
      return;
    }
    const rank = row.rank || i + 1;
    el.append(
      h(
        "div",
        {
          class: ["podium-slot", places[i], `rank-${Math.min(rank, 3)}`, row.id === me && "me"],
          role: "listitem",
          dataset: { rank: String(rank), id: row.id },
        },
        h(
          "div",
          { class: "podium-player" },
          avatar(row.nickname, "avatar-xl"),
          h("div", { class: "podium-name" }, row.nickname),
          h("div", { class: "podium-score" }, `${row.score} pts`),
        ),
        h("div", { class: "podium-block" }, h("span", { class: "podium-place" }, MEDALS[rank] || ordinal(rank))),
      ),
    );
  });
  return el;
}

/**
 * A live list of player chips, updated in place: new players pop in, kicked ones leave, and
 * presence dims the chip. `extra(player)` may add nodes (a kick button) to each chip.
 */
export class PlayerChips {
  constructor({ cls = "", extra = null, showPresence = true } = {}) {
    this.el = h("ul", { class: ["chips", cls], "aria-live": "polite" });
    this.items = new Map();
    this.extra = extra;
    this.showPresence = showPresence;
  }

  update(players) {
    const seen = new Set();
    for (const p of players || []) {
      seen.add(p.id);
      let item = this.items.get(p.id);
      if (!item) {
        const name = h("span", { class: "chip-name" }, p.nickname);
        const li = h("li", { class: "chip pop", dataset: { id: p.id } }, avatar(p.nickname), name);
        if (this.extra) li.append(...[this.extra(p)].flat().filter(Boolean));
        this.el.append(li);
        item = { li, name };
        this.items.set(p.id, item);
      }
      setText(item.name, p.nickname);
      item.li.classList.toggle("offline", this.showPresence && p.connected === false);
      item.li.title = p.connected === false ? `${p.nickname} (offline)` : p.nickname;
    }
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.li.remove();
        this.items.delete(id);
      }
    }
  }
}
