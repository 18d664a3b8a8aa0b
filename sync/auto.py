"""Syncing in the background while the appliance serves (`serve --auto-sync`).

Only finished games go up, through the same code as `engagements sync`. A live game never waits on
it: the cloud calls run on the cloud store's own threads, local reads on the store's reader threads,
and the few local writes (marking a game synced) queue behind the players' answers like any other.
While the network is down it retries with a growing pause, and catches up once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from engagements.store.base import Store, StoreError
from engagements.store.dynamodb import DynamoStore
from engagements.telemetry.metrics import SYNC_GAMES, SYNC_RUNS, Telemetry
from engagements.types import Types
from sync.cloud import GameReport, Retention, sync_all
from sync.target import Target, open_cloud

log = logging.getLogger(__name__)

INTERVAL = 30.0
MAX_PAUSE = 600.0


class AutoSync:
    def __init__(
        self,
        local: Store,
        target: Target,
        types: Types,
        *,
        retention_days: int,
        clock: Callable[[], int],
        on_synced: Callable[[GameReport, int], None],
        interval: float = INTERVAL,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.local = local
        self.target = target
        self.types = types  # a game's result pages go up with it (lifecycle.cloud_copy)
        self.retention_days = retention_days
        self.clock = clock
        self.on_synced = on_synced
        self.interval = interval
        self.telemetry = telemetry or Telemetry()
        self.last_error: str | None = None
        self._cloud: DynamoStore | None = None
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        """A game just finished: sync now rather than at the next interval."""
        self._wake.set()

    async def run(self) -> None:
        pause = self.interval
        while True:
            try:
                await self.once()
                pause = self.interval
                self.telemetry.count(SYNC_RUNS, result="ok")
            except StoreError as e:
                self.telemetry.count(SYNC_RUNS, result="failed")
                if str(e) != self.last_error:
                    log.warning("cloud sync: %s; retrying in the background", e)
                self.last_error = str(e)
                await self._drop_cloud()
                pause = min(MAX_PAUSE, pause * 2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
            self._wake.clear()

    async def once(self) -> list[GameReport]:
        if self._cloud is None:
            self._cloud = await open_cloud(self.target)
        now = self.clock()
        retention = Retention(self.retention_days, self.target.cloud_retention_days)
        reports = await sync_all(self.local, self._cloud, now_ms=now, retention=retention, types=self.types)
        failed = [r for r in reports if r.status == "failed"]
        for report in reports:
            self.telemetry.count(SYNC_GAMES, result=report.status)
            if report.status == "synced" and report.synced_at is not None:
                log.info("game synced to the cloud", extra={"game_id": report.game_id, "items": report.items})
                self.on_synced(report, report.synced_at)
        if failed:
            raise StoreError(f"{len(failed)} games could not be synced: {failed[0].error}")
        self.last_error = None
        return reports

    async def _drop_cloud(self) -> None:
        if self._cloud is not None:
            await self._cloud.close()
            self._cloud = None

    async def close(self) -> None:
        await self._drop_cloud()
