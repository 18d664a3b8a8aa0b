"""Ranked entries: a type's entries listed by how many other entries count them, the most counted
first, then the first to arrive (a Q&A's questions by their upvotes, then the oldest).

A type names the list an entry is in (`EngagementType.ranking`) and how much of each list its views
show live (`EngagementType.rankings`): a head from the top, and one from the bottom (the least
counted, the newest first, so that a new entry gets seen). On the appliance the heads are found in
memory (`heads`); in the cloud every ranked entry's item carries GSI1 keys (items.rank_pk and
`sort_key`), so a head is one query of a list's first or last items, however long the list. Both
read the same order: `sort_key` sorts as `order` does.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engagements.model import Entry, Game

if TYPE_CHECKING:
    from engagements.types import EngagementType

COUNT_MAX = 999_999  # a count above this sorts as this one (no list of one game gets near it)

Ranked = tuple[Entry, int]  # an entry and its count


@dataclass(frozen=True)
class Head:
    """The ends of one ranked list that the views show."""

    top: list[Ranked]  # the most counted first, then the first to arrive
    bottom: list[Ranked]  # the least counted first, then the newest


def order(entry: Entry, count: int) -> tuple[int, int, str]:
    """Sorts a list best first: the most counted, then the earliest, then by key (unique)."""
    return (-min(count, COUNT_MAX), entry.at, entry.player)


def sort_key(entry: Entry, count: int) -> str:
    """The index's sort key, in `order`'s order (GSI1SK: strings, compared byte by byte)."""
    return f"{COUNT_MAX - min(count, COUNT_MAX):06d}#{entry.at:015d}#{entry.player}"


def head(ranked: Iterable[Ranked], top: int, bottom: int) -> Head:
    """The `top` best and the `bottom` last of a list, without sorting it whole."""
    found = list(ranked)
    return Head(
        heapq.nsmallest(top, found, key=lambda r: order(*r)),
        heapq.nlargest(bottom, found, key=lambda r: order(*r)),
    )


def heads(game: Game, round: int, kind: EngagementType, kinds: Iterable[str]) -> dict[str, Head]:
    """The heads of each of `kind.rankings` in `round`, from the whole game in memory: the entries of
    `kinds` that `kind.ranking` places in a list, with their counts."""
    lists: dict[str, list[Ranked]] = {name: [] for name in kind.rankings}
    for entry_kind in kinds:
        for key, entry in game.round_entries(round, entry_kind).items():
            name = kind.ranking(entry)
            if name in lists:
                lists[name].append((entry, game.counts.get((round, entry_kind, key), 0)))
    return {name: head(found, *kind.rankings[name]) for name, found in lists.items()}
