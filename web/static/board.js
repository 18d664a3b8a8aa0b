// The generic parts every game has, whatever its type: the lobby's latest names, the leaderboard and
// the final podium. Pages own these; the engagement type renders its own round phases.

import { avatar, h, ordinal } from "./ui.js";

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
 * The latest nicknames of the lobby, newest first, as chips that never overflow their box: the
 * names that do not fit are hidden (the count says how many are in). `names`: at most 24.
 */
export class NameChips {
  constructor({ cls = "" } = {}) {
    this.el = h("ul", { class: ["chips", "name-chips", cls], "aria-label": "Latest players to join" });
    this.items = new Map(); // nickname -> li
    this.names = [];
    this.fitLater = () => requestAnimationFrame(() => this.fit());
    window.addEventListener("resize", this.fitLater);
  }

  update(names) {
    const list = (names || []).slice(0, 24);
    if (list.join("\n") === this.names.join("\n")) return;
    this.names = list;
    const keep = new Set(list);
    for (const [name, li] of this.items) {
      if (!keep.has(name)) {
        li.remove();
        this.items.delete(name);
      }
    }
    const ordered = list.map((name) => {
      let li = this.items.get(name);
      if (!li) {
        li = h("li", { class: "chip pop" }, avatar(name), h("span", { class: "chip-name" }, name));
        li.addEventListener("animationend", () => li.classList.remove("pop"), { once: true });
        this.items.set(name, li);
      }
      return li;
    });
    ordered.forEach((li, i) => {
      if (this.el.children[i] !== li) this.el.insertBefore(li, this.el.children[i] || null);
    });
    this.fit();
  }

  /** Hide the chips that would run past the bottom of the box. */
  fit() {
    const box = this.el;
    const chips = [...box.children];
    for (const li of chips) li.hidden = false;
    if (!box.isConnected || !box.clientHeight) return;
    const limit = box.clientHeight + 1;
    let over = false;
    for (const li of chips) {
      over = over || li.offsetTop + li.offsetHeight > limit;
      li.hidden = over;
    }
  }
}
