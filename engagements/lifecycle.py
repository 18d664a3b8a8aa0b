"""A finished game's lifecycle, in one place: kept, pending, synced, expiring, and what goes up.

    live       every item expires `retention_days` after the game's creation: abandoned games go away
    finished   the items lose that expiry ("kept"): a game nobody has synced must never vanish
    synced     the cloud copy is verified: the local copy expires `retention_days` from then, and the
               cloud copy, which never holds what stays home, `cloud_retention_days` from then

The appliance (engagements.service) and the sync (sync.cloud) both call these functions, so neither
restates a rule the other relies on. Keeping is written a moment after the podium, not with it (see
Games.execute); whoever finds a finished, unsynced game whose items still expire (a restart, the sync)
finishes the job through `settle`, so no crash can lose a game.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from engagements import auth, items, resultpages
from engagements.model import FINISHED, Game
from engagements.store.base import (
    GSI1,
    GSI1PK,
    MAX_TRANSACT_ITEMS,
    PK,
    SK,
    TTL,
    ConditionFailed,
    Item,
    Store,
    Update,
    Write,
    equals,
    now_epoch,
    present,
)
from engagements.types import Types

DAY = 86400
CLOUD_RETENTION_DAYS = 90
# Local META attributes about the cloud copy. The moment the first attempt to sync the game began, and the
# cloud copy's expiry counted from it: fixed then, so that a run cut off half way and the next one upload
# the very same copy, and a later change of the setting does not make earlier copies look different. And
# the checksum of a cloud copy the admin chose to keep over the local one (`sync --resolve keep-cloud`).
SYNC_AT = "sync_at"
CLOUD_TTL = "cloud_ttl"
CLOUD_KEPT = "cloud_kept"
# What never leaves the appliance: the secret that derives anonymous option ids, the token hashes (the
# cloud copy is an archive nobody signs in to) and the local bookkeeping above. Join-code items stay home
# too: they are not in the game's partition, and a code only means something to the appliance that issued it.
HOME_ONLY = frozenset({"secret", "host_token_hash", "token_hash", SYNC_AT, CLOUD_TTL, CLOUD_KEPT})
# What the cloud copy's META carries in their stead: a hash made from the host token's hash, which lets the
# host token read the game's history and exports in the cloud and opens nothing else (auth.reader_hash).
READER = "reader_hash"


def expiry(start_ms: int, days: int) -> int:
    """The `ttl` (epoch seconds) of something kept `days` from `start_ms`."""
    return start_ms // 1000 + days * DAY


async def recent(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """Live games, then finished ones (synced or not), newest first: the host's game list, on the
    appliance and in the cloud (three queries of the index, whatever the table holds)."""
    fields = ("id", "title", "status", "created_at", "finished_at", "synced_at")
    games: list[dict[str, Any]] = []
    for partition in (items.LIVE, items.FINISHED_GAMES, items.SYNCED_GAMES):
        page = await store.query(partition, index=GSI1, limit=limit, reverse=True)
        games += [{f: meta.get(f) for f in fields} for meta in page.items]
    live = [g for g in games if g["status"] != FINISHED]
    done = sorted((g for g in games if g["status"] == FINISHED), key=lambda g: -(g["finished_at"] or 0))
    return live + done[:limit]


# -- finished: kept until synced ----------------------------------------------------------------------


def keep_writes(expiring: Iterable[tuple[str, str, int]]) -> list[Update]:
    """Drop the expiry of a finished game's items, given as (PK, SK, the ttl it has now).

    Each update holds only while the item still has that `ttl`: once the sync has given the items their
    post-sync expiry, a late one changes nothing.
    """
    return [Update(pk, sk, remove=(TTL,), condition=equals(TTL, ttl)) for pk, sk, ttl in expiring]


def game_keep_writes(game: Game, ttl: int) -> list[Update]:
    """keep_writes for a game in memory: its keys come from the game itself, no query needed."""
    keys = [(items.game_pk(game.id), items.META), *items.item_keys(game)]
    return keep_writes((pk, sk, ttl) for pk, sk in keys)


async def keep(store: Store, writes: list[Update]) -> None:
    """One conditional update per item, each free to find the sync got there first.

    Raises the first failure that is not such a lost race.
    """
    results = await asyncio.gather(
        *(store.update(w.pk, w.sk, remove=w.remove, condition=w.condition) for w in writes),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ConditionFailed):
            raise result


def needs_keeping(meta: Item, partition: list[Item]) -> bool:
    """A finished game, not synced, whose items still expire: the appliance stopped before keeping it."""
    return meta["status"] == FINISHED and not meta.get("synced_at") and any(TTL in i for i in partition)


async def settle(store: Store, partition: list[Item]) -> list[Item]:
    """The game's partition once any keeping left undone is done (its join code included)."""
    meta = meta_of(partition)
    if not needs_keeping(meta, partition):
        return partition
    code = await store.get(items.code_pk(meta["code"]), "CODE")
    expiring = [(i[PK], i[SK], i[TTL]) for i in [*partition, *([code] if code else [])] if TTL in i]
    await keep(store, keep_writes(expiring))
    return await store.query_all(meta[PK])


async def pending(store: Store) -> list[list[Item]]:
    """Finished games not yet in the cloud, oldest first, each as its partition: an index query, no scan."""
    games = []
    for meta in await store.query_all(items.FINISHED_GAMES, index=GSI1):
        partition = await store.query_all(meta[PK])
        if has_meta(partition):  # not expired between the two reads
            games.append(await settle(store, partition))
    return games


# -- synced ----------------------------------------------------------------------------------------------


def synced_attrs(meta: Item, at: int) -> Item:
    """What a verified sync changes on META, on the appliance and in the cloud copy alike."""
    return {"synced_at": at, GSI1PK: items.SYNCED_GAMES, "version": meta["version"] + 1}


def mirror_synced(game: Game, at: int) -> None:
    """The game in memory after `mark_synced` changed its META (the appliance's own copy of it)."""
    game.synced_at = at
    game.version += 1


async def begin_sync(store: Store, partition: list[Item], now: int, cloud_days: int) -> list[Item]:
    """Fix the moment of a pending game's sync, and so its cloud copy, at the first attempt.

    An attempt whose cloud copy would have expired by now starts afresh: that copy is gone from reads.
    """
    meta = meta_of(partition)
    if SYNC_AT in meta and meta.get(CLOUD_TTL, 0) > now_epoch():
        return partition
    attrs = {SYNC_AT: now, CLOUD_TTL: expiry(now, cloud_days)}
    await store.update(meta[PK], items.META, set=attrs, condition=equals("version", meta["version"]))
    return [{**i, **attrs} if i is meta else i for i in partition]


async def mark_synced(
    store: Store,
    partition: list[Item],
    now: int,
    retention_days: int,
    *,
    cloud_kept: str | None = None,
    also: Callable[[Item, int], Awaitable[list[Write]]] | None = None,
) -> int:
    """Expire the local copy `retention_days` from `now`, META last: until then the game stays pending.

    The game is synced as of its `begin_sync` (the time both copies carry), which is returned;
    `cloud_kept` is the checksum of a cloud copy kept instead of the local one. `also(meta, synced_at)`
    gives writes that commit with META's (the `game.synced` webhook deliveries), or not at all.
    """
    ttl = expiry(now, retention_days)
    meta = meta_of(partition)
    writes = [Update(i[PK], i[SK], set={TTL: ttl}, condition=present()) for i in partition if i is not meta]
    code = items.code_pk(meta["code"])
    if await store.get(code, "CODE") is not None:
        writes.append(Update(code, "CODE", set={TTL: ttl}, condition=present()))
    for start in range(0, len(writes), MAX_TRANSACT_ITEMS):
        await store.transact_write(writes[start : start + MAX_TRANSACT_ITEMS])
    synced_at = meta.get(SYNC_AT, now)
    marked = Update(
        meta[PK],
        items.META,
        set={**synced_attrs(meta, synced_at), TTL: ttl, **_cloud_attrs(None, cloud_kept)},
        remove=() if cloud_kept else (CLOUD_KEPT,),
        condition=equals("version", meta["version"]),
    )
    await store.transact_write([marked, *(await also(meta, synced_at) if also is not None else [])])
    return synced_at


async def mark_cloud(store: Store, meta: Item, *, cloud_ttl: int | None, cloud_kept: str | None) -> None:
    """A synced game's cloud copy was replaced (`cloud_ttl`) or accepted as it is (`cloud_kept`)."""
    await store.update(
        meta[PK],
        items.META,
        set=_cloud_attrs(cloud_ttl, cloud_kept),
        remove=() if cloud_kept else (CLOUD_KEPT,),
        condition=present(),
    )


def _cloud_attrs(cloud_ttl: int | None, cloud_kept: str | None) -> Item:
    if cloud_kept is not None:
        return {CLOUD_KEPT: cloud_kept}
    return {} if cloud_ttl is None else {CLOUD_TTL: cloud_ttl}


def is_synced(meta: Item) -> bool:
    return bool(meta.get("synced_at"))


async def synced(store: Store) -> list[Item]:
    """The META of every synced game still on the appliance: an index query, no scan."""
    return await store.query_all(items.SYNCED_GAMES, index=GSI1)


# -- the cloud copy --------------------------------------------------------------------------------------


def cloud_copy(partition: list[Item], cloud_retention_days: int, types: Types) -> list[Item]:
    """The game as the cloud keeps it: nothing that stays home, its META synced, every item expiring,
    and the pages of its scored rounds' results (`result_pages`).

    A game not yet synced must have begun its sync (`begin_sync`): its copy is synced as of then, as the
    appliance marks it once the copy is verified, so the two then agree. A synced game keeps the time and
    expiry of its sync (games synced before expiries were fixed: `cloud_retention_days` from then).
    """
    meta = meta_of(partition)
    if is_synced(meta):
        changes: Item = {}
        ttl = meta.get(CLOUD_TTL) or expiry(meta["synced_at"], cloud_retention_days)
    else:
        changes = synced_attrs(meta, meta[SYNC_AT])
        ttl = meta[CLOUD_TTL]
    copy = []
    for item in partition:
        kept = {name: value for name, value in item.items() if name not in HOME_ONLY}
        if item is meta:
            kept.update(changes)
            if meta.get("host_token_hash"):
                kept[READER] = auth.reader_hash(meta["host_token_hash"])
        copy.append({**kept, TTL: ttl})
    return copy + result_pages(partition, {**meta, **changes}, types, ttl)


def result_pages(partition: list[Item], meta: Item, types: Types, ttl: int) -> list[Item]:
    """The page items of a game's scored rounds (engagements.resultpages), for the cloud to page its
    results as it does its own games' rather than from the whole game at each page: the same rule,
    stamped with the copy's META version (`meta`), which the cloud reads them by. None when a type that
    played the game is not installed here (the appliance that played it had it): the cloud then pages
    it from the whole game."""
    rounds = resultpages.scored_rounds(meta)
    played = {meta["type"], *(i["type"] for i in partition if i[SK].startswith("PROMPT#") and "type" in i)}
    if not rounds or not played <= set(types):
        return []
    game = items.load_game(partition, types)
    return [page for r in rounds for page in resultpages.page_items(game, types, r, meta["version"], ttl)]


def meta_of(partition: list[Item]) -> Item:
    """The META item of a game's partition (which has one: callers check when it may have expired)."""
    return next(i for i in partition if i[SK] == items.META)


def has_meta(partition: list[Item]) -> bool:
    """False for a game that is not there, or whose local copy expired between two reads."""
    return any(i[SK] == items.META for i in partition)
