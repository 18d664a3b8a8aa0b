"""Sending webhook deliveries: one task of the appliance, apart from every game.

The worker reads the deliveries due first from the store's index (engagements.deliveries), claims each
before its attempt, posts it signed with a fresh timestamp and records the answer: delivered, due again
after a backoff with jitter, or given up. At most `concurrency` attempts run at once, each cut off after
`Retry.timeout`; the games never await any of it, so a slow, failing or dead receiver changes nothing for
the players (tests/test_webhooks.py plays a game against one that hangs). A kill -9 loses nothing: the
deliveries are items, and one cut off mid-attempt is due again when its claim's lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

from engagements import __version__, deliveries, webhooks
from engagements.deliveries import Result, Retry
from engagements.store.base import GSI1, PK, SK, ConditionFailed, Item, Store, StoreError, Update

log = logging.getLogger(__name__)

CONCURRENCY = 4  # attempts in flight at once, whatever the backlog
POLL = 30.0  # seconds between two looks at the index when nobody nudges (another process queued some)
BATCH = 20  # due deliveries read per look
ANSWER_BYTES = 4096  # of a receiver's answer, read and thrown away: it is never shown nor kept


class GuardedResolver(ThreadedResolver):
    """Names resolve only to addresses a delivery may reach (webhooks.address_allowed), checked when
    connecting: a name cannot be pointed at a metadata service after the webhook was added."""

    def __init__(self, *, private: bool) -> None:
        super().__init__()
        self.private = private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await super().resolve(host, port, family)
        allowed = [r for r in found if webhooks.address_allowed(r["host"], private=self.private)]
        if not allowed:
            raise OSError(f"{host} resolves only to addresses events are never sent to")
        return allowed


class Deliverer:
    def __init__(
        self,
        store: Store,
        retry: Retry,
        *,
        clock: Callable[[], int],
        concurrency: int = CONCURRENCY,
        poll: float = POLL,
        private: bool = True,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.retry = retry
        self.clock = clock
        self.concurrency = concurrency
        self.poll = poll
        self.private = private
        self.rand = rand
        self.on_poll: Callable[[], Awaitable[None]] | None = None  # awaited every `poll` s (webhooks reload)
        self._wake = asyncio.Event()
        self._flying: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def nudge(self) -> None:
        """Deliveries were queued (or a slot came free): look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(private=self.private), limit=self.concurrency, force_close=True
        )
        self._session = aiohttp.ClientSession(
            connector=connector, headers={"User-Agent": f"Engagements-Webhooks/{__version__}"}
        )
        polled = asyncio.get_running_loop().time()
        try:
            while True:
                self._wake.clear()
                try:
                    if self.on_poll is not None and asyncio.get_running_loop().time() - polled >= self.poll:
                        polled = asyncio.get_running_loop().time()
                        await self.on_poll()
                    wait = await self.once()
                except Exception:  # a store that hiccups: look again later, the deliveries are kept
                    log.exception("webhook deliveries: could not read the queue")
                    wait = self.poll
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(0.0, min(wait, self.poll)))
        finally:
            await self.close()

    async def once(self) -> float:
        """Start the attempts that are due and fit; the seconds until the next one is."""
        page = await self.store.query(deliveries.DUE, index=GSI1, limit=BATCH)
        now = self.clock()
        for item in page.items:
            key = (item[PK], item[SK])
            if key in self._flying:
                continue
            if item["next_at"] > now:
                return (item["next_at"] - now) / 1000
            if len(self._flying) >= self.concurrency:
                return self.poll  # a finishing attempt nudges
            task = asyncio.create_task(self._attempt(item))
            self._flying[key] = task
            task.add_done_callback(lambda _, key=key: self._landed(key))
        return self.poll if page.next_key is None and len(page.items) < BATCH else 0.0

    def _landed(self, key: tuple[str, str]) -> None:
        self._flying.pop(key, None)
        self.nudge()

    async def _attempt(self, item: Item) -> None:
        retry = self.retry
        claim = deliveries.claim(item, self.clock(), retry)
        try:
            try:
                claimed = await self._apply(claim)
            except ConditionFailed:
                return  # another worker took it, or it settled meanwhile
            hook = await self.store.get(*deliveries.hook_key(item["hook"]))
            if hook is None:
                await self._apply(deliveries.give_up(claimed, self.clock(), "the webhook was removed"))
                return
            try:
                result = await self.post(hook, claimed["body"].encode(), claimed)
            except Exception as e:  # a bug of ours: the attempt counts, the worker goes on
                log.exception("webhook %s: attempt failed unexpectedly", hook["id"])
                result = Result(error=f"internal error: {type(e).__name__}")
            await self._apply(deliveries.settle(claimed, self.clock(), result, retry, self.rand()))
            if not result.delivered:
                log.info(
                    "webhook %s: %s %s attempt %d failed: %s",
                    hook["id"],
                    claimed["event"],
                    claimed["event_id"],
                    claimed["attempts"],
                    result.error,
                )
        except StoreError as e:  # the claim's lease runs out and it is tried again
            log.warning("webhook delivery %s: could not record an attempt: %s", item["event_id"], e)

    async def _apply(self, update: Update) -> Item:
        return await self.store.update(
            update.pk, update.sk, set=update.set, remove=update.remove, condition=update.condition
        )

    async def post(self, hook: Item, body: bytes, delivery: Item) -> Result:
        """One signed POST, cut off after the retry policy's timeout; never follows a redirect."""
        assert self._session is not None, "the worker is not running"
        parts = urlsplit(hook["url"])
        where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        refused = webhooks.host_refusal(parts.hostname or "", private=self.private)
        if refused is not None:
            return Result(error=f"{where}: events are never sent to {refused}")
        headers = {
            "Content-Type": "application/json",
            webhooks.EVENT_HEADER: delivery["event"],
            webhooks.ID_HEADER: delivery["event_id"],
            webhooks.SIGNATURE_HEADER: webhooks.sign(hook["secret"], body, self.clock() // 1000),
        }
        timeout = aiohttp.ClientTimeout(total=self.retry.timeout)
        try:
            async with self._session.post(
                hook["url"], data=body, headers=headers, allow_redirects=False, timeout=timeout
            ) as answer:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    await answer.content.read(ANSWER_BYTES)
                if 200 <= answer.status < 300:
                    return Result(answer.status)
                if 300 <= answer.status < 400:
                    return Result(answer.status, f"HTTP {answer.status}: redirects are not followed")
                return Result(answer.status, f"HTTP {answer.status}")
        except TimeoutError:
            return Result(error=f"no answer from {where} within {self.retry.timeout:g} s")
        except aiohttp.ClientConnectorError as e:
            reason = (e.os_error.strerror or str(e.os_error)) if e.os_error else "refused"
            return Result(error=f"cannot connect to {where}: {reason}")
        except aiohttp.ClientError as e:  # the message of some would repeat the URL: the class says enough
            return Result(error=f"{where}: {type(e).__name__}")

    async def close(self) -> None:
        for task in list(self._flying.values()):
            task.cancel()
        if self._flying:
            await asyncio.gather(*self._flying.values(), return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
