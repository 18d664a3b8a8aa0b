"""A scored round's result pages in the cloud (engagements.resultpages): named on META by the commit
that scores the round or changes its rows, written right after it, read a page at a time.

Written before the commit's posts, as a vote's ballots are: the host's console asks for the first page
the moment it shows the results. A page then costs the same reads at any number of players: the host's
`results` request reads META (is the round scored, and which pages are current) and one page item,
besides the socket's reverse item that every message reads; the history's round results route reads
META (who may read the game, which pages) and one page item, two when the page straddles two items and
the offset-past-the-end case reads the first page for the total. When a page is not there (the
invocation that scored the round died before writing it; a game scored before pages existed; a round
too large to keep), the caller builds it from the whole game, as before: dearer, never wrong.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from cloud import batches
from engagements import items, resultpages
from engagements.model import Game
from engagements.store.base import PK, SK, Item, Store, StoreError, Update, Write
from engagements.types import Types

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listing:
    """Rows of a round's listing from a page's offset on, and what a page shows with them."""

    total: int
    type: str
    prompt: str
    rows: list[dict[str, Any]]


def marked(writes: list[Write], game: Game, rounds: list[int]) -> list[Write]:
    """The commit's writes with META naming the version it writes as the stamp of `rounds`' pages."""
    if not rounds:
        return writes
    stamps = {items.results_stamp(r): game.version for r in rounds}
    out = []
    for write in writes:
        if isinstance(write, Update) and write.sk == items.META:
            assert write.set.get("version") == game.version, "a round's rows change with a new version"
            write = dataclasses.replace(write, set={**write.set, **stamps})
        out.append(write)
    return out


async def keep(store: Store, game: Game, types: Types, rounds: list[int], before: Item, ttl: int) -> None:
    """Write `rounds`' pages for the version just committed, then delete the pages they replace (those
    META named as it was loaded, `before`: a reader that read META before the commit and finds its
    page gone builds it from the whole game). A failure is logged: the pages' readers do without."""
    puts = [page for r in rounds for page in resultpages.page_items(game, types, r, game.version, ttl)]
    pk = items.game_pk(game.id)
    try:
        await batches.write_all(store, puts)
        replaced = [
            item
            for r in rounds
            if items.results_stamp(r) in before
            for item in await store.query_all(pk, items.results_prefix(r, resultpages.stamp(before, r)))
        ]
        await batches.write_all(store, deletes=[{PK: i[PK], SK: i[SK]} for i in replaced])
    except StoreError:
        log.exception("game %s: the result pages of version %d were not all kept", game.id, game.version)


async def read(store: Store, meta: Item, round: int, listing: str, offset: int, limit: int) -> Listing | None:
    """Rows [offset, offset + limit) of a scored round's `listing` from its current pages, or None
    when a page it needs is not there."""
    assert limit <= resultpages.ROWS, "a page spans two page items at most"
    first = offset // resultpages.ROWS
    found = await store.get(*resultpages.page_key(meta, round, listing, first))
    if found is None:
        zero = None if first == 0 else await store.get(*resultpages.page_key(meta, round, listing, 0))
        if zero is None or offset < zero["total"]:
            return None
        return Listing(zero["total"], zero["type"], zero["prompt"], [])  # past the end
    rows = resultpages.rows_of(found)[offset - first * resultpages.ROWS :]
    if min(offset + limit, found["total"]) > (first + 1) * resultpages.ROWS:
        after = await store.get(*resultpages.page_key(meta, round, listing, first + 1))
        if after is None:
            return None
        rows += resultpages.rows_of(after)
    return Listing(found["total"], found["type"], found["prompt"], rows[:limit])
