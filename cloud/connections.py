"""The game's sockets, kept in the single table: API Gateway holds the sockets, we hold who they are.

    PK             SK                                 what
    CONN#<id>      CONN                               the reverse item: which game (and, after hello,
                                                      which view and player) a connection belongs to
    GAME#<game>    CONN#<audience>#<connection id>    the game's sockets by audience (board, phones)

`$connect` writes the reverse item; a successful `hello` adds the game's item; `$disconnect` (best
effort, as API Gateway says) and a GoneException delete both.

The board views show how many players have a phone connected (`connected`, as the appliance counts
its sockets: a player with two is one), and reading every connection item for that would make each
update cost the room. So the transaction that adds or deletes a phone's game item also keeps two
counts, by ADD under conditions, never by reading first: `sockets` on the player's PLAYER item and,
when that count leaves or reaches zero, items.CONNECTED on META. The game item's own condition
(absent to add, present to delete) makes a repeated hello, a repeated `$disconnect` or a GoneException
after it count nothing twice. A socket whose `$disconnect` never comes stays counted until a post to
it finds it gone (every broadcast posts to it) or its items expire.

The reverse item also counts the socket's messages in windows (engagements.pace): each message counts
itself there by one conditional write, which returns the item, so finding the connection costs no
read. Every item expires three hours after it was written: past API Gateway's two-hour limit on a
connection, so none outlives its socket for long when `$disconnect` never comes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from engagements import items, pace
from engagements.model import PHONES, Rejected
from engagements.store.base import (
    PK,
    SK,
    TTL,
    ConditionFailed,
    Delete,
    Item,
    Put,
    Store,
    StoreError,
    TransactionCanceled,
    Update,
    Write,
    absent,
    at_least,
    below,
    equals,
    present,
)
from engagements.views import audience_of

LIFETIME = 3 * 3600  # seconds: API Gateway closes every connection after 2 hours
ATTEMPTS = 10  # counted writes of one phone's socket before giving up (each lost a race with another)
PREFIX = "CONN#"
REFUSALS = {
    "messages": "Too many messages: slow down.",
    "syncs": "Too many sync requests: one every few seconds is plenty.",
}


@dataclass(frozen=True)
class Connection:
    id: str
    game_id: str
    view: str | None = None  # None until hello
    player: str | None = None

    @property
    def audience(self) -> str | None:
        return audience_of(self.view) if self.view else None


def reverse_pk(connection_id: str) -> str:
    return f"{PREFIX}{connection_id}"


def game_sk(audience: str, connection_id: str) -> str:
    return f"{PREFIX}{audience}#{connection_id}"


class Connections:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _ttl(now_ms: int) -> int:
        return now_ms // 1000 + LIFETIME

    async def opened(self, connection_id: str, game_id: str, now_ms: int) -> None:
        item = {
            PK: reverse_pk(connection_id),
            SK: "CONN",
            "game_id": game_id,
            TTL: self._ttl(now_ms),
        }
        await self.store.put(item)

    async def spend(self, connection_id: str, now_ms: int, *, sync: bool = False) -> Connection | None:
        """The connection a message came from, once the message is counted in its window (a `sync`
        in the sync window too); raises Rejected `rate_limited` past the window's allowance. None:
        no such connection."""
        item = await self.store.get(reverse_pk(connection_id), "CONN")
        for name, bucket in [("messages", pace.MESSAGES)] + [("syncs", pace.SYNCS)] * sync:
            if item is not None:
                item = await self._count(item, name, bucket, now_ms)
        if item is None:
            return None
        return Connection(connection_id, item["game_id"], item.get("view"), item.get("player_id"))

    async def _count(self, item: Item, name: str, bucket: pace.Bucket, now_ms: int) -> Item | None:
        """Count one message in `name`'s current window of the reverse item, by one conditional write
        (ADD while below the allowance, or open the next window); on a race with another message of
        the socket, again from the item as that write found it. A refused message writes nothing."""
        window, count = now_ms // bucket.window_ms, f"{name}_n"
        for _ in range(5):
            opened = item.get(f"{name}_w", -1)
            if opened == window and item[count] >= bucket.burst:
                raise Rejected("rate_limited", REFUSALS[name])
            try:
                if opened == window:
                    condition = equals(f"{name}_w", window) + below(count, bucket.burst)
                    return await self.store.update(item[PK], item[SK], add={count: 1}, condition=condition)
                condition = present() + below(f"{name}_w", window)  # no other message opened it first
                return await self.store.update(
                    item[PK], item[SK], set={f"{name}_w": window, count: 1}, condition=condition
                )
            except ConditionFailed as e:
                if e.item is None:
                    return None
                item = e.item
        raise Rejected("rate_limited", REFUSALS[name])

    async def find(self, connection_id: str) -> Connection | None:
        item = await self.store.get(reverse_pk(connection_id), "CONN")
        if item is None:
            return None
        return Connection(connection_id, item["game_id"], item.get("view"), item.get("player_id"))

    async def bind(
        self, connection: Connection, view: str, player: str | None, now_ms: int, sockets: int = 0
    ) -> Connection:
        """After hello: the socket belongs to `view` (and `player`) and receives the game's messages.
        `sockets`: the player's open sockets as its hello read them (which count to try first)."""
        bound = Connection(connection.id, connection.game_id, view, player)
        again = connection.view is not None and (connection.audience, connection.player) == (
            bound.audience,
            bound.player,
        )
        if connection.view is not None and not again:  # a second hello, as someone else
            await self._unbind(connection)
        ttl = self._ttl(now_ms)
        reverse = Update(reverse_pk(connection.id), "CONN", set={"view": view, "player_id": player, TTL: ttl})
        item = {
            PK: items.game_pk(connection.game_id),
            SK: game_sk(bound.audience or "", connection.id),
            "connection_id": connection.id,
            "view": view,
            "player_id": player,
            TTL: ttl,
        }
        if again or not _counted(bound):
            await self.store.transact_write([reverse, Put(item)])
        else:
            await self._seat_count(bound, Put(item, absent()), 1, (reverse,), crossing=sockets < 1)
        return bound

    async def _unbind(self, connection: Connection) -> None:
        """The socket's game item goes (counted, for a phone's)."""
        pk, sk = items.game_pk(connection.game_id), game_sk(connection.audience or "", connection.id)
        if _counted(connection):
            await self._seat_count(connection, Delete(pk, sk, present()), -1)
        else:
            await self.store.delete(pk, sk)

    async def _seat_count(
        self,
        connection: Connection,
        write: Write,
        by: int,
        also: tuple[Write, ...] = (),
        *,
        crossing: bool = True,
    ) -> None:
        """`write` (the phone's game item: added, or deleted) with `also`, and the counts it moves, in
        one transaction. Its player's `sockets` either crosses zero (then CONNECTED moves too) or it
        does not: each try states which (first `crossing`, the likelier), and a refusal of that
        condition tries the other. Nothing is counted when `write`'s own condition fails: another
        call added or deleted the item first."""
        assert connection.player is not None
        pk = items.game_pk(connection.game_id)
        crosses = (below(items.SOCKETS, 1) if by > 0 else equals(items.SOCKETS, 1), by)
        stays = (at_least(items.SOCKETS, 1 if by > 0 else 2), 0)
        player = f"PLAYER#{connection.player}"
        for _ in range(ATTEMPTS):
            for condition, connected in (crosses, stays) if crossing else (stays, crosses):
                writes = [write, Update(pk, player, add={items.SOCKETS: by}, condition=present() + condition)]
                if connected:
                    writes.append(
                        Update(pk, items.META, add={items.CONNECTED: connected}, condition=present())
                    )
                try:
                    await self.store.transact_write([*writes, *also])
                    return
                except TransactionCanceled as canceled:
                    if canceled.reasons[0] or (connected and canceled.reasons[2]):
                        return  # the item was added (deleted) already, or the game is gone
        raise StoreError(f"game {connection.game_id}: the sockets of {connection.player} kept changing")

    async def of_game(self, game_id: str, audience: str | None = None) -> list[Connection]:
        """The game's sockets that said hello (of one audience): one query, paged by the store."""
        prefix = PREFIX if audience is None else f"{PREFIX}{audience}#"
        found = await self.store.query_all(items.game_pk(game_id), prefix)
        return [Connection(i["connection_id"], game_id, i["view"], i.get("player_id")) for i in found]

    async def remove(self, connection: Connection) -> None:
        deletes = [self.store.delete(reverse_pk(connection.id), "CONN")]
        if connection.audience is not None:
            deletes.append(self._unbind(connection))
        await asyncio.gather(*deletes)

    async def remove_ids(self, connection_ids: list[str]) -> list[Connection]:
        """Connections API Gateway says are gone, found by their reverse items; those it found."""
        found = [c for c in await asyncio.gather(*(self.find(i) for i in connection_ids)) if c is not None]
        await asyncio.gather(*(self.remove(c) for c in found))
        return found


def _counted(connection: Connection) -> bool:
    """A phone's socket with its seat: the ones `connected` counts."""
    return connection.audience == PHONES and connection.player is not None
