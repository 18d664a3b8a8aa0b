"""When the board views are sent the room: coalesced in time, the last change always shown.

A join, a phone's `hello` and its socket closing each change the room (`players`, `connected`, the
latest nicknames). The appliance coalesces these updates per game in memory (four a second); a
Lambda invocation has no memory, so the game's ROOM item keeps the coalescing state:

- `shown`: when the board views were last sent the room (ms). A change more than INTERVAL after it
  takes the slot by a conditional write (`shown` below now - INTERVAL) and is shown at once;
- `queued`: until when an update is already on its way. A change that finds the slot taken queues
  one, INTERVAL later through the deadline queue, unless one is already queued (`queued` in the
  future): that one reads the room after this change committed, so it shows it.

So however many phones connect at once, the board views get about one `room` a second at most, each
costing one room read (cloud.games.CloudGames.room), and every change costs one conditional write,
whatever the room. A burst's last change is always shown, within INTERVAL plus the queue's delay.
Without a queue (a local run with none configured) every change is shown at once.
"""

from __future__ import annotations

from collections.abc import Callable

from cloud.connections import LIFETIME
from cloud.deadlines import Deadlines
from engagements import items
from engagements.store.base import TTL, ConditionFailed, Store, below

ROOM = "ROOM"  # sort key of the game's coalescing item
INTERVAL = 1000  # ms between two `room` updates of one game, about


class RoomUpdates:
    def __init__(self, store: Store, deadlines: Deadlines | None, clock: Callable[[], int]) -> None:
        self.store = store
        self.deadlines = deadlines
        self.clock = clock

    async def due(self, game_id: str) -> bool:
        """The room changed: whether to show it now (else an update is queued, or already was)."""
        now = self.clock()
        if self.deadlines is None or await self._claim(game_id, "shown", now - INTERVAL, now):
            return True
        if await self._claim(game_id, "queued", now, now + INTERVAL):
            self.deadlines.room(game_id, INTERVAL)
        return False

    async def take(self, game_id: str) -> None:
        """A queued update is due: it takes the slot, whoever had it (the caller then shows the room)."""
        now = self.clock()
        await self.store.update(items.game_pk(game_id), ROOM, set={"shown": now, TTL: _ttl(now)})

    async def _claim(self, game_id: str, attr: str, before: int, value: int) -> bool:
        """Set `attr` to `value` if it is missing or below `before`; whether it was."""
        try:
            fields = {attr: value, TTL: _ttl(value)}
            await self.store.update(items.game_pk(game_id), ROOM, set=fields, condition=below(attr, before))
        except ConditionFailed:
            return False
        return True


def _ttl(ms: int) -> int:
    return ms // 1000 + LIFETIME
