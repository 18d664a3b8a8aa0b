"""When the board views are sent the room: at most about once a second, the last change always shown.

A join, a phone's `hello` and its socket closing each change the room (`players`, `connected`, the
latest nicknames). The appliance coalesces these updates per game in memory (four a second); a
Lambda invocation has no memory, so the game's ROOM item keeps one fact: until when an update is
already on its way (`queued`, ms). A change that finds none queues one, INTERVAL later, through the
deadline queue (a conditional write: `queued` below now); a change that finds one leaves it, since
that update reads the room after this change committed, so it shows it.

So every change costs exactly one conditional write, whatever the room and however the changes fall
in time; the board views get at most about one `room` a second, each costing one room read
(cloud.games.CloudGames.room), about a second after the change (SQS's one-second delay plus its
poller's). Without a queue (a local run with none configured) every change is shown at once.

The heads of a ranked round (a Q&A's questions: cloud.games.CloudGames.ranked_progress) are
coalesced the same way, with a PROGRESS item and every PROGRESS_INTERVAL: each player's question or
vote costs one conditional write, and every view (the phones too, as on the appliance) gets at most
one `progress` per interval, a few hundred items read for each.
"""

from __future__ import annotations

from collections.abc import Callable

from cloud.connections import LIFETIME
from cloud.deadlines import Deadlines
from engagements import items
from engagements.store.base import TTL, ConditionFailed, Store, below

ROOM = "ROOM"  # sort key of the game's coalescing item
INTERVAL = 1000  # ms from a change to the update that shows it, and between two updates, about
PROGRESS = "PROGRESS"  # sort key of a ranked round's coalescing item
PROGRESS_INTERVAL = 2000  # ms: the phones' share of every update is what an interval costs


class RoomUpdates:
    def __init__(
        self,
        store: Store,
        deadlines: Deadlines | None,
        clock: Callable[[], int],
        *,
        sk: str = ROOM,
        interval: int = INTERVAL,
    ) -> None:
        self.store = store
        self.deadlines = deadlines
        self.clock = clock
        self.sk = sk  # the coalescing item, and what its queued update shows (Timer.update)
        self.interval = interval

    async def due(self, game_id: str) -> bool:
        """The room changed: whether to show it now (only without a queue); else an update is queued,
        unless one already was."""
        if self.deadlines is None:
            return True
        now = self.clock()
        until = now + self.interval
        try:
            await self.store.update(
                items.game_pk(game_id), self.sk, set={"queued": until, TTL: until // 1000 + LIFETIME},
                condition=below("queued", now),
            )  # fmt: skip
        except ConditionFailed:
            return False  # one is on its way
        self.deadlines.update(game_id, self.sk, self.interval)
        return False
