"""Webhooks of the cloud stack: a game finished in the cloud is announced to the table's webhooks.

The same events, signatures, items and retry schedule as the appliance (engagements.webhooks,
engagements.deliveries); only the driver differs. The invocation whose commit finished a game queues one
delivery item per webhook (`WEBHOOKS` partition of the table: `engagements webhooks add URL --table …`)
and one message per delivery on the deadline queue; the deadline function makes each attempt and, after
a failure, queues the next one with the backoff as its `DelaySeconds` (SQS delays at most 900 s: a
longer wait is queued again when it arrives early). Attempts of one batch run at once, after its game
deadlines, each cut off after `Retry.timeout`, so a receiver that hangs delays no phase of any game.

What the cloud cannot promise that the appliance does: an invocation killed between its commit and
queueing the deliveries loses the event (no transaction spans DynamoDB and SQS). A delivery is claimed
before its attempt (engagements.deliveries.claim); an attempt cut off by a crash is redelivered by SQS
after the queue's visibility timeout, by when its claim has lapsed. Receivers may get an event twice and
dedupe by its id. Only public addresses are delivered to unless WEBHOOK_PRIVATE_TARGETS is set (a local
stack's receiver on the same machine); names are resolved and checked, then that address is connected.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import random
import socket
import ssl
from collections.abc import Callable
from urllib.parse import urlsplit

from cloud.deadlines import Deadlines, Due
from engagements import __version__, deliveries, webhooks
from engagements.deliveries import Result, Retry
from engagements.model import Game
from engagements.store.base import ConditionFailed, Item, Store, StoreError, Update

log = logging.getLogger(__name__)

SOURCE = "cloud"
TIMEOUT = 5.0  # one attempt: a batch of the deadline queue (its function has 30 s) runs its attempts at once


class CloudWebhooks:
    def __init__(
        self,
        store: Store,
        deadlines: Deadlines | None,
        clock: Callable[[], int],
        *,
        retry: Retry,
        private: bool = False,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.deadlines = deadlines
        self.clock = clock
        self.retry = retry
        self.private = private
        self.rand = rand

    async def finished(self, game: Game) -> None:
        """A commit just finished `game`: queue its event for every webhook. Never raises: the game is
        finished whatever happens to its announcement (a failure is logged)."""
        try:
            hooks = await deliveries.hooks(self.store)
            if not hooks:
                return
            if self.deadlines is None:
                log.warning(
                    "game %s: webhooks are configured but this function has no deadline queue", game.id
                )
                return
            now = self.clock()
            puts = deliveries.delivery_puts(hooks, webhooks.game_finished(game, now, SOURCE), now)
            await self.store.transact_write(puts)
            for put in puts:
                await asyncio.to_thread(self.deadlines.webhook, put.item["PK"], put.item["SK"], now, now)
        except Exception:
            log.exception("game %s: its webhook event could not be queued", game.id)

    async def attempt_all(self, due: list[Due]) -> list[bool]:
        """One batch's attempts, all at once (each bounded by its timeout): which of them failed, so SQS
        delivers those messages again (a store that refused; a receiver's failure is a retry queued)."""
        results = await asyncio.gather(*(self.attempt(d) for d in due), return_exceptions=True)
        for d, result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                log.error("webhook delivery %s could not be attempted: %r", d.sk, result)
        return [isinstance(result, BaseException) for result in results]

    async def attempt(self, due: Due) -> None:
        """Attempt one delivery; raises StoreError only when SQS should deliver the message again."""
        now = self.clock()
        if due.at > now:  # a backoff longer than SQS's longest delay, or a clock behind: wait on
            await self._queue(due.pk, due.sk, due.at, now)
            return
        item = await self.store.get(due.pk, due.sk)
        if item is None or item["status"] != deliveries.PENDING or item["next_at"] > now:
            return  # settled, or claimed or rescheduled by another attempt, whose message carries it on
        claim = deliveries.claim(item, now, self.retry)
        try:
            claimed = await self._apply(claim)
        except ConditionFailed:
            return
        hook = await self.store.get(*deliveries.hook_key(item["hook"]))
        if hook is None:
            await self._apply(deliveries.give_up(claimed, self.clock(), "the webhook was removed"))
            return
        body = claimed["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"Engagements-Webhooks/{__version__}",
            webhooks.EVENT_HEADER: claimed["event"],
            webhooks.ID_HEADER: claimed["event_id"],
            webhooks.SIGNATURE_HEADER: webhooks.sign(hook["secret"], body, self.clock() // 1000),
        }
        try:  # the thread's socket times out each read; this bounds the whole attempt
            result = await asyncio.wait_for(
                asyncio.to_thread(post, hook["url"], body, headers, self.retry.timeout, self.private),
                self.retry.timeout + 1,
            )
        except TimeoutError:
            result = Result(error=f"no whole answer within {self.retry.timeout:g} s")
        now = self.clock()
        settle = deliveries.settle(claimed, now, result, self.retry, self.rand())
        retry_at = settle.set.get("next_at")
        if retry_at is not None:
            # Queued before the record: should this invocation die between the two, the message still
            # comes, and finds the delivery due (its claim lapsed) rather than nothing to carry it on.
            log.info(
                "webhook %s: %s attempt %d failed: %s",
                hook["id"],
                item["event"],
                claimed["attempts"],
                result.error,
            )
            await self._queue(due.pk, due.sk, retry_at, now)
        await self._apply(settle)

    async def _queue(self, pk: str, sk: str, at: int, now: int) -> None:
        if self.deadlines is None:
            raise StoreError("no deadline queue to retry a webhook delivery with")
        await asyncio.to_thread(self.deadlines.webhook, pk, sk, at, now)

    async def _apply(self, update: Update) -> Item:
        return await self.store.update(
            update.pk, update.sk, set=update.set, remove=update.remove, condition=update.condition
        )


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, private: bool) -> Result:
    """One POST to `url` with the standard library (the Lambda package carries no HTTP client), to an
    address checked first and then connected to, so a name cannot be re-pointed between the two."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    where = f"{host}:{port}"
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        return Result(error=f"cannot resolve {host}: {e.strerror or e}")
    allowed = [info[4][0] for info in found if webhooks.address_allowed(info[4][0], private=private)]
    if not allowed:
        return Result(error=f"{where}: events are never sent to the addresses it resolves to")
    connection = _Pinned(host, port, allowed, timeout=timeout, https=https)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read(4096)  # never shown nor kept
        status = answer.status
    except TimeoutError:
        return Result(error=f"no answer from {where} within {timeout:g} s")
    except (OSError, http.client.HTTPException) as e:
        reason = getattr(e, "strerror", None) or type(e).__name__
        return Result(error=f"cannot deliver to {where}: {reason}")
    finally:
        connection.close()
    if 200 <= status < 300:
        return Result(status)
    if 300 <= status < 400:
        return Result(status, f"HTTP {status}: redirects are not followed")
    return Result(status, f"HTTP {status}")


class _Pinned(http.client.HTTPSConnection):
    """A connection for `host` to one of `addresses` (the first that answers): the Host header, and with
    https the certificate's name and SNI, are the URL's; the socket goes only to an address checked."""

    def __init__(self, host: str, port: int, addresses: list[str], *, timeout: float, https: bool) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.addresses, self.https = addresses, https

    def connect(self) -> None:
        failure: OSError = ConnectionRefusedError("no address to connect to")
        for address in self.addresses:
            try:
                self.sock = socket.create_connection((address, self.port), self.timeout)
                break
            except OSError as e:
                failure = e
        else:
            raise failure
        if self.https:
            self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)  # type: ignore[attr-defined]
