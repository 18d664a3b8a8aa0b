"""Finished games' history: the games by time, one game's rounds and podium, and a round's results a
page at a time, with the same bodies from the appliance (web/history.py) and the cloud (cloud/routes.py).

The list is two queries of the index (finished games not yet synced, and synced ones), newest first,
resumed after a cursor: never a scan, whatever the table holds. A game's history is its export
(engagements.export, the one place that says what a round's results are), cut down: a round's result
rows are counted there and served a page at a time, so a round of 10,000 answers never reaches a page
whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engagements import items
from engagements.export import build, round_results
from engagements.model import Game, Rejected
from engagements.store.base import GSI1, GSI1PK, GSI1SK, PK, SK, Store
from engagements.types import Types, kind_of

PAGE = 25  # games, or result rows, per page unless the request asks for fewer or more
MAX_PAGE = 100
PARTITIONS = (items.FINISHED_GAMES, items.SYNCED_GAMES)
FIELDS = ("id", "title", "type", "status", "created_at", "finished_at", "synced_at")
CURSOR = re.compile(r"(?P<ms>\d{15})#(?P<id>[A-Za-z0-9]{1,40})")  # a game's GSI1SK (engagements.items)
FILES = ("results.csv", "export.json", "export.zip", "export.xlsx")  # the downloads, on both runtimes


def page_size(query: Mapping[str, str], default: int = PAGE) -> int:
    """`?limit=`: 1 to MAX_PAGE."""
    raw = query.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise Rejected("invalid", f"`limit` must be a whole number from 1 to {MAX_PAGE}.")
    return int(raw)


async def games(store: Store, query: Mapping[str, str]) -> dict[str, Any]:
    """Finished games, newest first: `{"games": [...], "next": cursor or null}`. `?after=` takes the
    `next` of the page before (the index key of its last game, nothing secret)."""
    limit = page_size(query)
    after = query.get("after")
    if after is not None and not CURSOR.fullmatch(after):
        raise Rejected("invalid", "`after` must be the `next` of an earlier page.")
    found, floor = [], ""
    for partition in PARTITIONS:
        start = None
        if after is not None:
            game_id = CURSOR.fullmatch(after)["id"]  # type: ignore[index]
            start = {GSI1PK: partition, GSI1SK: after, PK: items.game_pk(game_id), SK: items.META}
        page = await store.query(partition, index=GSI1, limit=limit, start_key=start, reverse=True)
        found += page.items
        if page.next_key is not None and page.items:  # what it has not returned is older than its last
            floor = max(floor, page.items[-1][GSI1SK])
    # Nothing older than a partition's unread rest may show before it: the next page starts there.
    found = sorted((m for m in found if m[GSI1SK] >= floor), key=lambda m: m[GSI1SK], reverse=True)
    shown = found[:limit]
    more = bool(floor) or len(found) > limit
    return {
        "games": [{f: meta.get(f) for f in FIELDS} for meta in shown],
        "next": shown[-1][GSI1SK] if more and shown else None,
    }


def summary(game: Game, types: Types) -> dict[str, Any]:
    """The game as the history page shows it: the export's game record, its rounds with the number of
    result rows each has (not the rows), and the podium (the first three of the standings, when a round
    gave points: ties share a rank, so a rank of 3 may have thousands more)."""
    export = build(game, types)
    return {
        "game": export.game,
        "rounds": [
            {**{k: v for k, v in r.items() if k != "results"}, "result_rows": len(r["results"])}
            for r in export.rounds
        ],
        "podium": [p for p in export.players[:3] if p["rank"] is not None] if export.point_rounds else [],
        "files": list(FILES),
    }


def results(game: Game, types: Types, round: str, query: Mapping[str, str]) -> dict[str, Any]:
    """One round's result rows (the export's), `?offset=` and `?limit=` a page of them."""
    if not round.isdigit() or not 1 <= int(round) <= len(game.prompts):
        raise Rejected("not_found", "This game has no such round.")
    r = int(round) - 1
    offset, limit = window(query)
    rows = round_results(game, types, r)
    kind, prompt = kind_of(game, types, r).slug, game.prompts[r].get("text", "")
    return results_page(r, kind, prompt, len(rows), offset, limit, rows[offset : offset + limit])


def window(query: Mapping[str, str]) -> tuple[int, int]:
    """`?offset=` and `?limit=` of a page of a round's results, checked."""
    offset_text = query.get("offset", "0")
    if not offset_text.isdigit():
        raise Rejected("invalid", "`offset` must be a whole number.")
    return int(offset_text), page_size(query)


def results_page(
    r: int, kind: str, prompt: str, total: int, offset: int, limit: int, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """A page of round `r`'s (from 0) result rows: `rows` are its `total` rows' from `offset` on,
    `limit` at most (the cloud reads them from the round's pages: cloud.results)."""
    end = offset + limit
    return {
        "round": r + 1,
        "type": kind,
        "prompt": prompt,
        "total": total,
        "offset": offset,
        "results": rows,
        "next": end if end < total else None,
    }
