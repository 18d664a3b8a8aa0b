"""The appliance's webhooks: configured by the admin, their events queued with what they are about.

The webhooks live in the store (engagements.deliveries) and in memory, so the command that finishes a
game adds one delivery per webhook to its own transaction without awaiting anything (Games.finish_writes):
an acknowledged finish always has its deliveries saved, and a kill -9 after it loses neither. Sending
them is the worker's job (web.deliverer), in its own task; nothing here ever waits on a receiver.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from engagements import deliveries, webhooks
from engagements.deliveries import Retry
from engagements.model import Game, Rejected
from engagements.service import Games
from engagements.store.base import Item, Store, Write, absent
from web.deliverer import Deliverer

log = logging.getLogger(__name__)

SOURCE = "appliance"


class Webhooks:
    """The webhooks of one store: the appliance's (served), or a cloud table's (`engagements webhooks
    --table`, which the stack's functions read)."""

    def __init__(self, store: Store, clock: Callable[[], int], *, private: bool = True) -> None:
        self.store = store
        self.clock = clock
        self.private = private  # may a URL name a private address (webhooks.refusal)
        self.on_queued: Callable[[], None] = lambda: None  # a delivery was queued: the worker may look
        self._hooks: dict[str, Item] = {}

    async def load(self) -> None:
        """Read the webhooks again (at start, and at each of the worker's polls: another appliance on
        the same cloud table, or `engagements webhooks --table`, may have changed them)."""
        self._hooks = {hook["id"]: hook for hook in await deliveries.hooks(self.store)}

    def finish_writes(self, game: Game) -> list[Write]:
        """The deliveries of the game's `game.finished` event, saved with the command that finished it."""
        if not self._hooks:
            return []
        try:
            event = webhooks.game_finished(game, self.clock(), SOURCE)
            return list(deliveries.delivery_puts(list(self._hooks.values()), event, self.clock()))
        except Exception:  # a bug here must not cost the game its finish: no event, and it is logged
            log.exception("game %s: its webhook event could not be made", game.id)
            return []

    # -- the admin's ------------------------------------------------------------------------------

    async def add(self, raw_url: Any) -> Item:
        """A new webhook (its secret made here, returned this once); Rejected for a bad URL."""
        try:
            url = webhooks.check_url(raw_url, private=self.private)
        except ValueError as e:
            raise Rejected("invalid", f"That webhook URL cannot be used: {e}.") from None
        await self.load()
        if len(self._hooks) >= deliveries.MAX_HOOKS:
            most = deliveries.MAX_HOOKS
            raise Rejected("invalid", f"An appliance has at most {most} webhooks: remove one first.")
        hook = deliveries.hook_item(url, webhooks.new_secret(), self.clock())
        await self.store.put(hook, absent())
        self._hooks[hook["id"]] = hook
        log.info("webhook %s added", hook["id"])  # its id only: a URL may carry the receiver's own key
        return hook

    async def remove(self, hook_id: str) -> None:
        """Forget a webhook; its pending deliveries are given up when they come due."""
        if await self.store.get(*deliveries.hook_key(hook_id)) is None:
            raise Rejected("not_found", "No such webhook on this appliance.")
        await self.store.delete(*deliveries.hook_key(hook_id))
        self._hooks.pop(hook_id, None)
        log.info("webhook %s removed", hook_id)

    async def send_test(self, hook_id: str) -> dict[str, Any]:
        """Queue a `webhook.test` event for one webhook, like any other event: logged, retried."""
        hook = await self.store.get(*deliveries.hook_key(hook_id))
        if hook is None:
            raise Rejected("not_found", "No such webhook on this appliance.")
        now = self.clock()
        event = webhooks.test_event(now, SOURCE)
        (put,) = deliveries.delivery_puts([hook], event, now)
        await self.store.put(put.item, put.condition)
        self.on_queued()
        return deliveries.delivery_view(put.item)

    async def listing(self) -> list[dict[str, Any]]:
        """Every webhook (without its secret) with its latest deliveries, newest first: the delivery log."""
        await self.load()
        out = []
        for hook in sorted(self._hooks.values(), key=lambda h: h["created_at"]):
            page = await self.store.query(
                deliveries.HOOK + hook["id"], deliveries.DELIVERY, limit=deliveries.LOG_SIZE, reverse=True
            )
            log_lines = [deliveries.delivery_view(i) for i in page.items]
            out.append(deliveries.hook_view(hook) | {"deliveries": log_lines})
        return out


async def attach_webhooks(store: Store, games: Games, retry: Retry) -> tuple[Webhooks, Deliverer]:
    """The appliance's webhooks, hooked to its games (each finish queues its events), and their worker
    (`run()` it as a task of the app), nudged whenever deliveries are saved."""
    deliverer = Deliverer(store, retry, clock=games.clock)
    hooks = Webhooks(store, games.clock)
    await hooks.load()
    hooks.on_queued = deliverer.nudge
    deliverer.on_poll = hooks.load
    games.finish_writes = hooks.finish_writes
    games.on_finish_saved = deliverer.nudge
    return hooks, deliverer
