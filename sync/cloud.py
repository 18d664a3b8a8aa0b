"""Finished games up to the cloud table: exactly once, complete, verified, and resumable.

A game goes up as a copy of its partition (`GAME#<id>`): its items are the same in both backends, so
nothing is translated. Items already in the cloud are never overwritten (a re-run cannot clobber a
newer cloud copy), the META item goes last (a cloud reader never sees a game whose items are still on
their way), and only when a read-back of the cloud copy matches the local one, item for item, is the
game marked synced locally. A run cut off anywhere is completed by the next one.

Join-code items stay home: a code only means something to the appliance that issued it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from engagements import items as layout
from engagements.store.base import (
    GSI1,
    GSI1PK,
    MAX_BATCH_ITEMS,
    MAX_TRANSACT_ITEMS,
    PK,
    SK,
    TTL,
    Item,
    Store,
    StoreError,
    Update,
    equals,
    present,
)

BATCH_RETRIES = 8


class SyncError(StoreError):
    """One game could not be synced; the others carry on."""


@dataclass
class GameReport:
    game_id: str
    title: str
    items: int
    uploaded: int = 0
    status: str = "pending"  # pending | would sync | synced | failed
    error: str | None = None


@dataclass
class Progress:
    """Hooks for a progress display; the defaults do nothing."""

    game: Callable[[GameReport], None] = lambda report: None
    items: Callable[[int], None] = lambda count: None


@dataclass
class Pending:
    meta: Item
    items: list[Item] = field(default_factory=list)


def checksum(items: list[Item]) -> str:
    """A content hash of a set of items, independent of their order and of how they were read."""
    digest = hashlib.sha256()
    for line in sorted(
        json.dumps(i, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for i in items
    ):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


async def pending_games(local: Store) -> list[Pending]:
    """Finished games not yet in the cloud, oldest first, with their items: an index query, no scan."""
    games = []
    for meta in await local.query_all(layout.FINISHED_GAMES, index=GSI1):
        items = await local.query_all(meta[PK])
        expiring = [Update(i[PK], i[SK], remove=(TTL,), condition=present()) for i in items if TTL in i]
        if expiring:  # the server died while finishing this game: finish its job first
            for start in range(0, len(expiring), MAX_TRANSACT_ITEMS):
                await local.transact_write(expiring[start : start + MAX_TRANSACT_ITEMS])
            items = await local.query_all(meta[PK])
        games.append(Pending(next(i for i in items if i[SK] == layout.META), items))
    return games


async def sync_all(
    local: Store,
    cloud: Store | None,
    *,
    now_ms: int,
    retention_days: int,
    dry_run: bool = False,
    progress: Progress | None = None,
    games: list[Pending] | None = None,
) -> list[GameReport]:
    progress = progress or Progress()
    reports = []
    for game in await pending_games(local) if games is None else games:
        report = GameReport(game.meta["id"], game.meta["title"], len(game.items))
        reports.append(report)
        progress.game(report)
        if dry_run or cloud is None:
            report.status = "would sync"
            continue
        try:
            await upload(cloud, game, report, progress)
            await mark_synced(local, game, now_ms, retention_days)
        except StoreError as e:
            report.status, report.error = "failed", str(e)
            continue
        report.status = "synced"
    return reports


async def upload(cloud: Store, game: Pending, report: GameReport, progress: Progress) -> None:
    present_ = {(i[PK], i[SK]): i for i in await cloud.query_all(game.meta[PK])}
    missing = [i for i in game.items if (i[PK], i[SK]) not in present_]
    missing.sort(key=lambda i: i[SK] == layout.META)  # META last
    progress.items(len(game.items) - len(missing))
    for start in range(0, len(missing), MAX_BATCH_ITEMS):
        chunk = missing[start : start + MAX_BATCH_ITEMS]
        await put_all(cloud, chunk)
        report.uploaded += len(chunk)
        progress.items(len(chunk))
    copy = await cloud.query_all(game.meta[PK])
    if len(copy) != len(game.items) or checksum(copy) != checksum(game.items):
        local = {(i[PK], i[SK]): i for i in game.items}
        differ = sum(1 for i in copy if local.get((i[PK], i[SK])) != i)
        raise SyncError(
            f"the cloud copy of game {game.meta['id']} does not match: {len(copy)} items there, "
            f"{len(game.items)} here, {differ} different (a newer copy in the cloud is never overwritten)"
        )


async def put_all(cloud: Store, items: list[Item]) -> None:
    """A batch write that retries what DynamoDB left unprocessed, backing off with jitter."""
    puts = items
    for attempt in range(BATCH_RETRIES):
        left = await cloud.batch_write(puts=puts)
        if not left:
            return
        puts = [w.item for w in left]  # type: ignore[union-attr]  # only puts were sent
        await asyncio.sleep(min(5.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
    raise SyncError(f"the cloud kept {len(puts)} items unprocessed after {BATCH_RETRIES} tries")


async def mark_synced(local: Store, game: Pending, now_ms: int, retention_days: int) -> None:
    """Expire the local copy `retention_days` from now, META last: until then the game stays pending."""
    ttl = now_ms // 1000 + retention_days * 86400
    meta = game.meta
    writes = [
        Update(i[PK], i[SK], set={TTL: ttl}, condition=present()) for i in game.items if i[SK] != layout.META
    ]
    code = layout.code_pk(meta["code"])
    if await local.get(code, "CODE") is not None:
        writes.append(Update(code, "CODE", set={TTL: ttl}, condition=present()))
    for start in range(0, len(writes), MAX_TRANSACT_ITEMS):
        await local.transact_write(writes[start : start + MAX_TRANSACT_ITEMS])
    await local.update(
        meta[PK],
        layout.META,
        set={"synced_at": now_ms, GSI1PK: layout.SYNCED_GAMES, TTL: ttl, "version": meta["version"] + 1},
        condition=equals("version", meta["version"]),
    )
