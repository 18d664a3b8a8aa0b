"""Rooms: the sockets of each game by audience, and everything sent to them.

A broadcast is rendered once per audience (board views, phones) and framed once per rendition,
however many sockets get it. `you` messages go to the sockets of their player only. The room's and
the round's counts (`room`, `progress`) are coalesced: at most one update per INTERVAL per audience
(the board views four times a second, phones every three seconds), the latest counts always sent (a
trailing update follows a burst), so a round costs each phone a handful of messages however many
others join, answer or vote.

Nothing is shown before it is saved (`deliver`): a command's messages go out once its writes are
durable, so a crash can never take back a phase change that a view has already shown. A game's
writes are saved in its commands' order, and its deliveries wait in that order too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode

from engagements import views
from engagements.model import BOARD, LOBBY, PHONES, PLAYING, Game
from engagements.service import Outcome
from engagements.telemetry.metrics import FANOUT_LATENCY, FANOUT_RECIPIENTS, Telemetry
from engagements.types import Types
from web.collector import Collector
from web.connection import Conn, Outbox
from web.wire import frame

INTERVAL = {BOARD: 0.25, PHONES: 3.0}  # seconds between two count updates to one audience
KICKED_CLOSE = 4003


@dataclass(eq=False)
class Room:
    game: Game
    types: Types  # every installed type: each round's own renders its counts (types.kind_of)
    conns: dict[str, set[Conn]] = field(default_factory=lambda: {a: set() for a in views.AUDIENCES})
    players: dict[str, set[Conn]] = field(default_factory=dict)  # player id -> their sockets
    tick: asyncio.TimerHandle | None = None  # the next count update, when one is due
    sent_at: dict[str, float] = field(default_factory=lambda: dict.fromkeys(views.AUDIENCES, -1e9))
    shown: dict[tuple[str, str], Any] = field(default_factory=dict)  # (audience, type) -> last told


class Rooms:
    def __init__(self, outbox: Outbox, collector: Collector, telemetry: Telemetry | None = None) -> None:
        self.outbox = outbox
        self.collector = collector
        self.telemetry = telemetry or Telemetry()
        self.rooms: dict[str, Room] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # per game, the outcomes waiting for their writes (or for an earlier one's), oldest first
        self._unsaved: dict[str, deque[Outcome]] = {}

    def enter(self, conn: Conn, game: Game, types: Types) -> bool:
        """Add an authenticated socket to its game's room (its snapshot was sent just before).

        True when it is its player's first open socket: the player is now present.
        """
        room = self.rooms.get(game.id)
        if room is None or room.game is not game:  # new, or the game was reloaded
            room = self.rooms[game.id] = Room(game, types, *_keep(room))
        room.conns[views.audience_of(conn.view)].add(conn)
        self.collector.entered_room()
        pid = conn.actor.player if conn.actor else None
        if pid:
            seats = room.players.setdefault(pid, set())
            seats.add(conn)
            return len(seats) == 1
        return False

    def leave(self, conn: Conn) -> Game | None:
        """Take a socket out of its room: the game, when that closed its player's last socket."""
        room = self.rooms.get(conn.game_id)
        if room is None or conn.actor is None:
            return None
        room.conns[views.audience_of(conn.view)].discard(conn)
        pid = conn.actor.player
        conn.actor = None
        if pid and pid in room.players:
            room.players[pid].discard(conn)
            if not room.players[pid]:
                del room.players[pid]
                return room.game
        return None

    def deliver(self, game: Game, outcome: Outcome) -> None:
        """Publish a command's messages once the writes they depend on are durable (all but the score
        updates, which a restart recomputes from the entries), after the game's earlier ones.

        A write that fails is never shown: the service reloads the game from the store, and its views
        resynchronise from there.
        """
        messages = outcome.messages
        if not (messages.broadcast or messages.private or messages.kicked):
            return self.touch(game)  # only the counts moved; they are no event a crash could take back
        waiting = self._unsaved.get(game.id)
        if waiting is None and (outcome.shown_after is None or outcome.shown_after.done()):
            if outcome.may_show():
                self.publish(game, outcome.messages)
            return
        if waiting is None:
            waiting = self._unsaved[game.id] = deque()
        waiting.append(outcome)
        if outcome.shown_after is not None:
            outcome.shown_after.add_done_callback(lambda _: self._saved(game))
        else:
            self._saved(game)

    async def caught_up(self, game: Game) -> None:
        """Until every message of the game waiting for its writes is out (or dropped, if they failed).

        A snapshot taken then shows nothing a crash could take back, and no delivery still on its way
        repeats what it shows.
        """
        while waiting := self._unsaved.get(game.id):
            pending = [
                o.shown_after for o in waiting if o.shown_after is not None and not o.shown_after.done()
            ]
            if not pending:  # their callbacks are on their way
                await asyncio.sleep(0)
                continue
            await asyncio.wait(pending)

    def _saved(self, game: Game) -> None:
        waiting = self._unsaved.get(game.id)
        while waiting and (waiting[0].shown_after is None or waiting[0].shown_after.done()):
            outcome = waiting.popleft()
            if outcome.may_show():
                self.publish(game, outcome.messages)
        if not waiting:
            self._unsaved.pop(game.id, None)

    def publish(self, game: Game, messages: views.Messages) -> None:
        """Send what a command changed: each broadcast to each audience, `you` to their players."""
        room = self.rooms.get(game.id)
        phase_changed = any(r[BOARD]["type"] == "phase_changed" for r in messages.broadcast)
        if room is not None:
            started, sent = time.perf_counter(), 0
            for renditions in messages.broadcast:
                for audience, message in renditions.items():
                    data = frame(message)
                    conns = room.conns[audience]
                    sent += len(conns)
                    for conn in conns:
                        conn.send(data)
                    if message["type"] == "phase_changed" and message["round"] is not None:
                        # its round view carries the counts
                        counts = views.progress(game, room.types, audience)
                        room.shown[(audience, "progress")] = {k: v for k, v in counts.items() if k != "type"}
            for pid, message in messages.private.items():
                seats = room.players.get(pid)
                if seats:
                    data = frame(message)
                    sent += len(seats)
                    for conn in seats:
                        conn.send(data)
            for pid in messages.kicked:
                self._close_player(room, pid)
            if phase_changed:  # out now, not at the end of a turn that may be busy with a burst
                self.outbox.flush()
            self.telemetry.observe(FANOUT_RECIPIENTS, sent)
            self.telemetry.observe(FANOUT_LATENCY, time.perf_counter() - started)
        if phase_changed:
            self.collector.update(game.id, game.status == PLAYING)
        self.touch(game)

    # -- coalesced counts -----------------------------------------------------------------------

    def touch(self, game: Game) -> None:
        """The counts may have moved: make sure an update is on its way."""
        room = self.rooms.get(game.id)
        if room is None or room.tick is not None:
            return
        loop = asyncio.get_running_loop()
        due = min(room.sent_at[a] + INTERVAL[a] for a in views.AUDIENCES) - loop.time()
        room.tick = loop.call_later(max(0.0, due), self._tick, game.id)

    def _tick(self, game_id: str) -> None:
        room = self.rooms.get(game_id)
        if room is None:
            return
        room.tick = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        waiting = []
        for audience in views.AUDIENCES:
            updates = self._updates(room, audience)
            if not updates:
                continue
            due = room.sent_at[audience] + INTERVAL[audience]
            if now < due:
                waiting.append(due)
                continue
            room.sent_at[audience] = now
            for message in updates:
                room.shown[(audience, message["type"])] = {k: v for k, v in message.items() if k != "type"}
                data = frame(message)
                for conn in room.conns[audience]:
                    conn.send(data)
        if waiting:
            room.tick = loop.call_later(max(0.0, min(waiting) - now), self._tick, game_id)

    @staticmethod
    def _updates(room: Room, audience: str) -> list[dict[str, Any]]:
        game = room.game
        out = []
        if audience == BOARD or game.status == LOBBY:  # a phone shows the room's count in the lobby
            counts = views.room(game, audience)
            if counts != room.shown.get((audience, "room")):
                out.append({"type": "room", **counts})
        if game.status == PLAYING:
            progress = views.progress(game, room.types, audience)
            if {k: v for k, v in progress.items() if k != "type"} != room.shown.get((audience, "progress")):
                out.append(progress)
        lane = views.lane_progress(game, room.types)  # a type running alongside: in every phase
        if lane is not None and {k: v for k, v in lane.items() if k != "type"} != room.shown.get(
            (audience, "lane")
        ):
            out.append(lane)
        return out

    # -- closing --------------------------------------------------------------------------------

    def _close_player(self, room: Room, pid: str) -> None:
        data = frame({"type": "error", "code": "kicked", "message": "The host removed you from this game."})
        for conn in list(room.players.get(pid, ())):
            conn.send(data)
            self._spawn(self._close_after_flush(conn, KICKED_CLOSE, b"kicked"))

    async def _close_after_flush(self, conn: Conn, code: int, reason: bytes) -> None:
        for _ in range(50):
            if conn.flushed():
                break
            await asyncio.sleep(0.02)
        await conn.ws.close(code=code, message=reason)

    def refresh(
        self, game: Game, snapshot: Callable[[Conn], bytes], views_: tuple[str, ...] = ("host",)
    ) -> None:
        """Send these views a fresh snapshot: for changes that are not game events (a finished sync)."""
        room = self.rooms.get(game.id)
        for conn in room.conns[BOARD] if room else ():
            if conn.actor is not None and conn.view in views_:
                conn.send(snapshot(conn))

    def audience_counts(self) -> dict[str, int]:
        """Authenticated sockets by audience, over every room (the metrics' gauge)."""
        counts = dict.fromkeys(views.AUDIENCES, 0)
        for room in self.rooms.values():
            for audience, conns in room.conns.items():
                counts[audience] += len(conns)
        return counts

    def evicted(self, game_id: str) -> None:
        """The game's memory and store may disagree: its sockets reconnect and get the store's."""
        self.collector.update(game_id, False)
        room = self.rooms.pop(game_id, None)
        if room is None:
            return
        if room.tick is not None:
            room.tick.cancel()
        for conns in room.conns.values():
            for conn in list(conns):
                self._spawn(conn.ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"reloading game"))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for room in self.rooms.values():
            if room.tick is not None:
                room.tick.cancel()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.collector.close()


def _keep(room: Room | None) -> tuple[Any, ...]:
    """A reloaded game keeps its room's sockets."""
    if room is None:
        return ()
    if room.tick is not None:
        room.tick.cancel()
    return (room.conns, room.players)
