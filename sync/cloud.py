"""Finished games up to the cloud table: exactly once, complete, verified, resumable, and repairable.

A game goes up as its partition (`GAME#<id>`) in the form engagements.lifecycle.cloud_copy gives it:
without what stays home, its META saying synced, every item expiring after the cloud's retention, and
with its scored rounds' result pages (made here by the installed types, so that the cloud pages a synced
game's results as it pages its own: engagements.resultpages; a copy synced before them gets them from
`verify_all`, as anything else the cloud lacks).
Items already in the cloud are never overwritten (a re-run cannot clobber a newer cloud copy), the
META item goes last (a cloud reader never sees a game whose items are still on their way), and only
when a read-back of the cloud copy matches the expected one, item for item, is the game marked synced
locally. A run cut off anywhere is completed by the next one.

Later, `verify_all` re-checks the synced games still on the appliance and puts back what the cloud
lost; a copy that differs is a conflict, which only the admin settles (`resolve`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from engagements import deliveries, lifecycle, webhooks
from engagements import items as layout
from engagements.model import FINISHED
from engagements.store.base import (
    MAX_BATCH_ITEMS,
    PK,
    SK,
    TTL,
    Delete,
    Item,
    Key,
    Put,
    Store,
    StoreError,
    Write,
    now_epoch,
)
from engagements.types import Types

BATCH_RETRIES = 8
KEEP_LOCAL = "keep-local"
KEEP_CLOUD = "keep-cloud"


class SyncError(StoreError):
    """One game could not be synced; the others carry on."""


@dataclass
class GameReport:
    game_id: str
    title: str
    items: int
    uploaded: int = 0  # items written to the cloud by this run, and only those
    removed: int = 0  # cloud items deleted by `--resolve keep-local`
    synced_at: int | None = None  # when the game was synced (its sync began), once it is
    action: str = "sync"  # sync | verify | resolve
    # sync: would sync | synced; verify: verified | repaired | expired; resolve: kept local | kept cloud;
    # any of them: failed
    status: str = "pending"
    error: str | None = None


@dataclass
class Progress:
    """Hooks for a progress display; the defaults do nothing."""

    game: Callable[[GameReport], None] = lambda report: None
    items: Callable[[int], None] = lambda count: None


@dataclass(frozen=True)
class Retention:
    """Days a synced game stays on the appliance, and in the cloud."""

    local_days: int
    cloud_days: int = lifecycle.CLOUD_RETENTION_DAYS


def checksum(items: list[Item]) -> str:
    """A content hash of a set of items, independent of their order and of how they were read."""
    digest = hashlib.sha256()
    for line in sorted(
        json.dumps(i, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for i in items
    ):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def copy_ttl(copy: list[Item]) -> int:
    """The expiry of a cloud copy: every item of it has the same."""
    return int(copy[0][TTL])


def announce_synced(local: Store, now_ms: int) -> Callable[[Item, int], Awaitable[list[Write]]]:
    """The `game.synced` deliveries to the appliance's webhooks, for lifecycle.mark_synced to commit with
    the mark itself: a game is never synced without them (the appliance's worker sends them)."""

    async def writes(meta: Item, synced_at: int) -> list[Write]:
        event = webhooks.game_synced(meta, synced_at, now_ms, "appliance")
        return list(deliveries.delivery_puts(await deliveries.hooks(local), event, now_ms))

    return writes


def _report(partition: list[Item]) -> GameReport:
    meta = lifecycle.meta_of(partition)
    return GameReport(meta["id"], meta["title"], len(partition), synced_at=meta.get("synced_at"))


async def sync_all(
    local: Store,
    cloud: Store | None,
    *,
    now_ms: int,
    retention: Retention,
    types: Types,
    dry_run: bool = False,
    progress: Progress | None = None,
    games: list[list[Item]] | None = None,
) -> list[GameReport]:
    """Every finished game not yet in the cloud (or `games`, from lifecycle.pending), one after another."""
    progress = progress or Progress()
    reports = []
    for partition in await lifecycle.pending(local) if games is None else games:
        report = _report(partition)
        reports.append(report)
        progress.game(report)
        if dry_run or cloud is None:
            report.status = "would sync"
            continue
        try:
            partition = await lifecycle.begin_sync(local, partition, now_ms, retention.cloud_days)
            copy = lifecycle.cloud_copy(partition, retention.cloud_days, types)
            await upload(cloud, copy, report, progress)
            report.synced_at = await lifecycle.mark_synced(
                local, partition, now_ms, retention.local_days, also=announce_synced(local, now_ms)
            )
        except StoreError as e:
            report.status, report.error = "failed", str(e)
            continue
        report.status = "synced"
    return reports


async def verify_all(
    local: Store, cloud: Store, *, retention: Retention, types: Types, progress: Progress | None = None
) -> list[GameReport]:
    """Re-check every synced game still on the appliance; put back whatever the cloud lost."""
    progress = progress or Progress()
    reports = []
    for meta in await lifecycle.synced(local):
        partition = await local.query_all(meta[PK])
        if not lifecycle.has_meta(partition):
            continue  # its local copy expired a moment ago: nothing left to check against
        report = _report(partition)
        report.action = "verify"
        reports.append(report)
        progress.game(report)
        try:
            report.status = await verify(cloud, partition, report, progress, retention, types)
        except StoreError as e:
            report.status, report.error = "failed", str(e)
    return reports


async def verify(
    cloud: Store,
    partition: list[Item],
    report: GameReport,
    progress: Progress,
    retention: Retention,
    types: Types,
) -> str:
    meta = lifecycle.meta_of(partition)
    if lifecycle.CLOUD_KEPT in meta:  # the admin kept the cloud's own copy: it must still be that one
        copy = await cloud.query_all(meta[PK])
        progress.items(len(partition))
        if checksum(copy) != meta[lifecycle.CLOUD_KEPT]:
            raise SyncError(
                f"the cloud copy of game {meta['id']} changed since it was kept; "
                f"resolve it with --resolve {KEEP_CLOUD} or {KEEP_LOCAL}"
            )
        return "verified"
    expected = lifecycle.cloud_copy(partition, retention.cloud_days, types)
    if copy_ttl(expected) <= now_epoch():
        progress.items(len(partition))
        return "expired"  # the cloud's retention is over: its copy is meant to be gone
    await upload(cloud, expected, report, progress)
    return "repaired" if report.uploaded else "verified"


async def resolve(
    local: Store,
    cloud: Store,
    game_id: str,
    choice: str,
    *,
    now_ms: int,
    retention: Retention,
    types: Types,
) -> GameReport:
    """Settle a game whose cloud copy differs from the local one, as the admin chose.

    keep-local: the cloud copy becomes the expected copy of the local game (items that differ are
    overwritten, items the local game lacks are deleted). keep-cloud: the cloud copy stays as it is, and
    the local game is marked synced with its checksum, which `--verify` then holds it to.
    """
    partition = await local.query_all(layout.game_pk(game_id))
    if not lifecycle.has_meta(partition):
        raise StoreError(f"no game {game_id} on this appliance")
    partition = await lifecycle.settle(local, partition)
    meta = lifecycle.meta_of(partition)
    if meta["status"] != FINISHED:
        raise StoreError(f"game {game_id} is not finished: only finished games go to the cloud")
    report = _report(partition)
    report.action = "resolve"
    copy = await cloud.query_all(meta[PK])
    synced = lifecycle.is_synced(meta)
    if choice == KEEP_CLOUD:
        if not lifecycle.has_meta(copy):
            raise StoreError(f"the cloud has no copy of game {game_id} to keep")
        kept = checksum(copy)
        if synced:
            await lifecycle.mark_cloud(local, meta, cloud_ttl=None, cloud_kept=kept)
        else:
            report.synced_at = await lifecycle.mark_synced(
                local,
                partition,
                now_ms,
                retention.local_days,
                cloud_kept=kept,
                also=announce_synced(local, now_ms),
            )
        report.status = "kept cloud"
        return report
    if not synced:
        partition = await lifecycle.begin_sync(local, partition, now_ms, retention.cloud_days)
    expected = lifecycle.cloud_copy(partition, retention.cloud_days, types)
    wanted = {(i[PK], i[SK]) for i in expected}
    extra: list[Key] = [{PK: i[PK], SK: i[SK]} for i in copy if (i[PK], i[SK]) not in wanted]
    for start in range(0, len(extra), MAX_BATCH_ITEMS):
        await write_all(cloud, deletes=extra[start : start + MAX_BATCH_ITEMS])
    report.removed = len(extra)
    await upload(cloud, expected, report, Progress(), overwrite=True)
    if synced:
        await lifecycle.mark_cloud(local, meta, cloud_ttl=copy_ttl(expected), cloud_kept=None)
    else:
        report.synced_at = await lifecycle.mark_synced(
            local, partition, now_ms, retention.local_days, also=announce_synced(local, now_ms)
        )
    report.status = "kept local"
    return report


async def upload(
    cloud: Store, expected: list[Item], report: GameReport, progress: Progress, *, overwrite: bool = False
) -> None:
    """Put what the cloud lacks (or, with `overwrite`, whatever differs), META last; then read it back."""
    pk = expected[0][PK]
    there = {(i[PK], i[SK]): i for i in await cloud.query_all(pk)}
    if overwrite:
        missing = [i for i in expected if there.get((i[PK], i[SK])) != i]
    else:
        missing = [i for i in expected if (i[PK], i[SK]) not in there]
    missing.sort(key=lambda i: i[SK] == layout.META)  # META last
    progress.items(len(expected) - len(missing))
    for start in range(0, len(missing), MAX_BATCH_ITEMS):
        chunk = missing[start : start + MAX_BATCH_ITEMS]
        await write_all(cloud, puts=chunk)
        report.uploaded += len(chunk)
        progress.items(len(chunk))
    copy = await cloud.query_all(pk)
    if checksum(copy) != checksum(expected):
        wanted = {(i[PK], i[SK]): i for i in expected}
        differ = sum(1 for i in copy if wanted.get((i[PK], i[SK])) != i)
        game_id = pk.removeprefix("GAME#")
        raise SyncError(
            f"the cloud copy of game {game_id} does not match: {len(copy)} items there, "
            f"{len(expected)} here, {differ} different (a cloud copy is never overwritten unasked: "
            f"--resolve {KEEP_LOCAL} or {KEEP_CLOUD} {game_id})"
        )


async def write_all(cloud: Store, puts: list[Item] | None = None, deletes: list[Key] | None = None) -> None:
    """A batch write that retries what DynamoDB left unprocessed, backing off with jitter."""
    left_puts, left_deletes = puts or [], deletes or []
    for attempt in range(BATCH_RETRIES):
        left = await cloud.batch_write(puts=left_puts, deletes=left_deletes)
        if not left:
            return
        left_puts = [w.item for w in left if isinstance(w, Put)]
        left_deletes = [{PK: w.pk, SK: w.sk} for w in left if isinstance(w, Delete)]
        await asyncio.sleep(min(5.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
    raise SyncError(
        f"the cloud kept {len(left_puts) + len(left_deletes)} items unprocessed after {BATCH_RETRIES} tries"
    )
