"""A scored round's ranked results kept as page items, so that a page of them costs the same reads
at any number of players.

The host reads a round's results a page at a time: the console's `results` request and the history's
round results route. Built from the whole game, each page read the whole game, so reading a round of
N answers read about N²/20 items in the cloud (3,002 items for a page of 20 rows at 1,000 players:
docs/cloud.md). So the cloud keeps each scored round's rows in the game's partition, ranked, in items
of ROWS rows, and reads a page from one or two of them. The appliance pages from the game in memory.

A round has two listings: the console's (HOST: `EngagementType.results`) and the history's (HISTORY:
`export.round_results`, the export's and the CSV's rows). A page item holds its rows as JSON text, so
they read back exactly as they were made (the same rows, order and fields), with the listing's `total`
and the round's `type` and `prompt` (what the history's page also shows).

Pages are keyed by a stamp (items.results_sk) and never change once written: the stamp is the META
version of the commit that scored the round or last changed its rows, and META names it
(items.results_stamp) in that commit. Every such commit bumps the version (a phase change, or a host
command: a word hidden in a word cloud's results, a question moderated after a Q&A closed, a kicked
player's questions hidden), so two states of a round never share a stamp, and a reader never sees
pages of two states. A copy synced from an appliance gets its pages from the sync (lifecycle.cloud_copy,
one rule for both), stamped with its META's version, which its META then need not name: a copy never
changes, and copies synced before the pages existed get them at their next `sync --verify` without
their META changing.
"""

from __future__ import annotations

import json
import math
from typing import Any

from engagements import items
from engagements.export import round_results
from engagements.model import Event, Game
from engagements.store.base import PK, SK, TTL, Item
from engagements.types import Types, kind_of

ROWS = 100  # rows per page item: a page of the console's 20 or the history's 25 to 100 reads one or two
HOST = "host"
HISTORY = "history"
# A page's rows as JSON, at most: well under DynamoDB's 400 KB an item (a built-in type's 100 rows are
# 200 KB at the very most: 140-character answers, 12 voters' nicknames). A round whose page would be
# larger (a plugin's rows) keeps no pages, and is paged from the whole game.
MAX_ROWS_TEXT = 300 * 1024
SCORED = "scored"


def changed(game: Game, events: list[Event]) -> list[int]:
    """The scored rounds whose rows `events` made or changed: the round they scored, and any scored
    round an entry of which came, went or changed (after the round closed, only host commands do)."""
    rounds = {e.data["round"] for e in events if e.kind == "round_scored"}
    rounds |= {e.data["entry"].round for e in events if e.kind in ("entry_added", "entry_changed")}
    rounds |= {e.data["round"] for e in events if e.kind == "entry_removed"}
    return sorted(r for r in rounds if game.outcomes.get(r) == SCORED)


def page_items(game: Game, types: Types, round: int, stamp: int, ttl: int) -> list[Item]:
    """A scored round's page items of both listings, stamped `stamp` (a listing with no rows has one
    empty page); none when a page would be too large to keep."""
    kind = kind_of(game, types, round)
    listings = {HOST: kind.results(game, round), HISTORY: round_results(game, types, round)}
    pk, prompt = items.game_pk(game.id), game.prompts[round].get("text", "")
    pages = []
    for listing, rows in listings.items():
        for page in range(max(1, math.ceil(len(rows) / ROWS))):
            shown = rows[page * ROWS : (page + 1) * ROWS]
            text = json.dumps(shown, separators=(",", ":"), ensure_ascii=False)
            if len(text.encode()) > MAX_ROWS_TEXT:
                return []
            pages.append(
                {
                    PK: pk,
                    SK: items.results_sk(round, stamp, listing, page),
                    "total": len(rows),
                    "type": kind.slug,
                    "prompt": prompt,
                    "rows": text,
                    TTL: ttl,
                }
            )
    return pages


def scored_rounds(meta: Item) -> list[int]:
    """The rounds META says were scored, in order."""
    return sorted(int(r) for r, outcome in meta["outcomes"].items() if outcome == SCORED)


def stamp(meta: Item, round: int) -> int:
    """The stamp of a round's current pages: the one META names, or (a synced copy) its version."""
    return int(meta.get(items.results_stamp(round), meta["version"]))


def page_key(meta: Item, round: int, listing: str, page: int) -> tuple[str, str]:
    """The key of one page item of a round's current pages."""
    return items.game_pk(meta["id"]), items.results_sk(round, stamp(meta, round), listing, page)


def rows_of(page: Item) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(page["rows"])
    return rows
