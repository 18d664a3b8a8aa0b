"""The WebSocket hub: one socket per view, rooms per game, broadcasts framed once and queued per socket.

A broadcast is encoded and framed once (server frames are unmasked, so every socket gets the same
bytes). What one turn of the event loop sends to a socket is written to its transport in one go at
the end of the turn (the `Outbox`): one system call per socket however many players joined in that
turn. A socket whose transport holds more than HIGH_WATER bytes gets its frames on its own bounded
queue instead, drained by its own task once the phone reads again, so a phone that stops reading
never stalls a broadcast to the others; one that falls QUEUE_LIMIT frames behind gets a fresh
snapshot instead of its backlog. Only the handler task reads a socket.

`progress` counts are coalesced: at most one every PROGRESS_INTERVAL per game, the latest counts
always sent (a trailing one follows a burst), so a round costs each player a handful of messages
however many others answer.

While a game is played, Python's cyclic garbage collector leaves alone what existed when it started
(see `Collector`): a full collection walks every object of every connected player and stalled the
event loop for 100-200 ms at a time with thousands of players.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from engagements.model import PLAYING, Actor, Game, Rejected
from engagements.service import Games, Outcome
from engagements.store.base import StoreError

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096
QUEUE_LIMIT = 256  # frames a socket may have waiting; past that it gets a snapshot instead
HIGH_WATER = 256 * 1024  # bytes a socket's transport may hold before its frames wait in its queue
LOW_WATER = 64 * 1024  # the queue drains once the transport holds less than this
DRAIN_POLL = 0.05  # seconds between looks at a backed-up socket's transport
PROGRESS_INTERVAL = 0.25  # at most four `progress` events a second per game
KICKED_CLOSE = 4003
RATE = 10.0  # messages a second a socket may send on average
BURST = 30.0
SESSION_TYPES = frozenset({"hello", "ping", "sync"})


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def frame(message: dict[str, Any]) -> bytes:
    """A message as one WebSocket text frame (RFC 6455, unmasked, uncompressed): the same bytes for all."""
    payload = encode(message).encode()
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class Collector:
    """Keeps full garbage collections from walking the connected players while games are played.

    When a game starts, every object alive (the sockets, the players, the games) is frozen out of the
    collector's reach (`gc.freeze`): objects made later are still collected as usual, and reference
    counting frees nearly everything anyway. Once no game is being played the freeze is lifted, so
    the rare reference cycle among frozen objects that became garbage meanwhile is collected then.
    """

    def __init__(self) -> None:
        self.playing: set[str] = set()

    def update(self, game_id: str, playing: bool) -> None:
        if playing and game_id not in self.playing:
            self.playing.add(game_id)
            gc.freeze()
        elif not playing and game_id in self.playing:
            self.playing.discard(game_id)
            if not self.playing:
                gc.unfreeze()

    def close(self) -> None:
        if self.playing:
            self.playing.clear()
            gc.unfreeze()


class Outbox:
    """The sockets sent something during this turn of the event loop, written at its end."""

    def __init__(self) -> None:
        self.dirty: list[Conn] = []

    def add(self, conn: Conn) -> None:
        if not self.dirty:
            asyncio.get_running_loop().call_soon(self.flush)
        self.dirty.append(conn)

    def flush(self) -> None:
        dirty, self.dirty = self.dirty, []
        for conn in dirty:
            conn.flush()


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    game_id: str
    transport: asyncio.Transport | None = None
    outbox: Outbox = field(default_factory=Outbox)
    actor: Actor | None = None
    view: str = ""
    pending: list[bytes] = field(default_factory=list)  # sent this turn, written at its end
    queue: deque[bytes] = field(default_factory=deque)  # frames waiting for a backed-up socket
    behind: bool = False  # the queue overflowed: the writer sends a snapshot instead of the backlog
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    allowance: float = BURST
    checked: float = field(default_factory=time.monotonic)

    def send(self, data: bytes) -> None:
        if self.behind:
            return
        if not self.pending:
            self.outbox.add(self)
        self.pending.append(data)

    def flush(self) -> None:
        """Straight to the socket while it keeps up; else onto its queue, which its writer drains."""
        frames, self.pending = self.pending, []
        transport = self.transport
        if not frames or self.behind or transport is None or transport.is_closing() or self.ws.closed:
            return
        if not self.queue and transport.get_write_buffer_size() <= HIGH_WATER:
            transport.write(frames[0] if len(frames) == 1 else b"".join(frames))
            return
        for data in frames:
            if len(self.queue) >= QUEUE_LIMIT:
                self.behind = True
                self.queue.clear()
                break
            self.queue.append(data)
        self.wake.set()

    def flushed(self) -> bool:
        return (
            not self.pending
            and not self.queue
            and not self.behind
            and (self.transport is None or self.transport.get_write_buffer_size() == 0)
        )

    def allow(self) -> bool:
        """A token bucket: bursts are fine, a flood is not."""
        now = time.monotonic()
        self.allowance = min(BURST, self.allowance + (now - self.checked) * RATE)
        self.checked = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True


@dataclass(eq=False)
class Room:
    conns: set[Conn] = field(default_factory=set)
    players: dict[str, set[Conn]] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    timer_deadline: int | None = None
    progress: asyncio.TimerHandle | None = None  # the next `progress`, when one is due
    progress_at: float = float("-inf")  # loop time of the last one
    shown: dict[str, Any] | None = None  # the counts every view has been told


class Hub:
    def __init__(self, games: Games) -> None:
        self.games = games
        self.rooms: dict[str, Room] = {}
        self.sockets: set[web.WebSocketResponse] = set()
        self.outbox = Outbox()
        self.collector = Collector()
        self._tasks: set[asyncio.Task[Any]] = set()
        games.on_evict = self._evicted

    # -- the socket -----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=25, compress=False, max_msg_size=64 * 1024)
        await ws.prepare(request)
        conn = Conn(ws, request.match_info["game_id"], request.transport, self.outbox)
        self.sockets.add(ws)
        writer = asyncio.create_task(self._write(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._receive(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._error(conn, "bad_json", "Messages are JSON text.")
        finally:
            self._leave(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self.sockets.discard(ws)
        return ws

    async def _write(self, conn: Conn) -> None:
        """Drain the queue of a socket that fell behind, once its phone reads again."""
        transport = conn.transport
        if transport is None:
            return
        while True:
            await conn.wake.wait()
            conn.wake.clear()
            while conn.queue or conn.behind:
                while transport.get_write_buffer_size() > LOW_WATER and not transport.is_closing():
                    await asyncio.sleep(DRAIN_POLL)
                if transport.is_closing() or conn.ws.closed:
                    return
                if conn.behind:  # the snapshot has everything the dropped frames had
                    game = self.games.loaded(conn.game_id)
                    if game is None or conn.actor is None:
                        return
                    conn.behind = False
                    transport.write(frame(self.games.snapshot(game, conn.actor, conn.view)))
                else:
                    transport.write(conn.queue.popleft())

    async def _receive(self, conn: Conn, text: str) -> None:
        at = self.games.clock()
        if len(text) > MAX_MESSAGE:
            return self._error(conn, "too_large", f"Messages are at most {MAX_MESSAGE} bytes.")
        if not conn.allow():
            return self._error(conn, "rate_limited", "Too many messages: slow down.")
        try:
            msg = json.loads(text)
        except ValueError:
            return self._error(conn, "bad_json", "That message is not JSON.")
        if not isinstance(msg, dict):
            return self._error(conn, "bad_json", "A message is a JSON object.")
        type_ = msg.pop("type", None)
        cmd_id = msg.pop("id", "")
        if not isinstance(type_, str):
            return self._error(conn, "bad_message", "A message needs a `type`.")
        if not isinstance(cmd_id, str) or len(cmd_id) > 64:
            return self._error(conn, "bad_message", "`id` is a string of at most 64 characters.")
        try:
            if type_ in SESSION_TYPES:
                return await self._session(conn, type_, msg)
            if conn.actor is None:
                raise Rejected("not_authenticated", "Say hello with your token first.")
            if not cmd_id:
                raise Rejected("bad_message", "A command needs an `id`.")
            game = await self._game(conn)
            outcome = self.games.execute(game, conn.actor, type_, msg, cmd_id, at)
        except Rejected as e:
            return self._error(conn, e.code, e.message, cmd_id)
        self.publish(game, outcome)
        try:
            await outcome.saved()
        except StoreError:
            return self._error(conn, "internal", "That could not be saved: please try again.", cmd_id)
        conn.send(frame({"type": "ack", "id": cmd_id, **outcome.ack}))

    async def _session(self, conn: Conn, type_: str, msg: dict[str, Any]) -> None:
        if type_ == "ping":
            t = msg.get("t")
            return conn.send(
                frame(
                    {
                        "type": "pong",
                        "t": t if isinstance(t, int | float) else None,
                        "now": self.games.clock(),
                    }
                )
            )
        if type_ == "sync":
            if conn.actor is None:
                raise Rejected("not_authenticated", "Say hello with your token first.")
            game = await self._game(conn)
            return conn.send(frame(self.games.snapshot(game, conn.actor, conn.view)))
        game = await self.games.get(conn.game_id)
        if game is None:
            raise Rejected("unauthorized", "There is no such game on this server.")
        actor = self.games.authenticate(game, msg.get("token"), msg.get("view"))
        self._leave(conn)
        conn.actor, conn.view = actor, msg["view"]
        room = self.rooms.setdefault(game.id, Room())
        room.conns.add(conn)
        conn.send(frame(self.games.snapshot(game, actor, conn.view)))  # then every later event, in order
        self.schedule(game)
        if actor.player:
            seats = room.players.setdefault(actor.player, set())
            seats.add(conn)
            if len(seats) == 1:
                self.publish(game, self.games.presence(game, actor.player, True))

    async def _game(self, conn: Conn) -> Game:
        game = await self.games.get(conn.game_id)
        if game is None:
            raise Rejected("unauthorized", "There is no such game on this server.")
        return game

    def _leave(self, conn: Conn) -> None:
        room = self.rooms.get(conn.game_id)
        if room is None or conn not in room.conns:
            return
        room.conns.discard(conn)
        pid = conn.actor.player if conn.actor else None
        if pid and pid in room.players:
            room.players[pid].discard(conn)
            if not room.players[pid]:
                del room.players[pid]
                game = self.games.loaded(conn.game_id)
                if game is not None and pid in game.players:
                    self.publish(game, self.games.presence(game, pid, False))
        conn.actor = None

    def _error(self, conn: Conn, code: str, message: str, cmd_id: str = "") -> None:
        err = {"type": "error", "code": code, "message": message}
        if cmd_id:
            err["id"] = cmd_id
        conn.send(frame(err))

    # -- fan-out --------------------------------------------------------------------------------

    def publish(self, game: Game, outcome: Outcome) -> None:
        """Send what a command changed: broadcasts to every view, `you` replies to their players.

        Then, while the game is being played, make sure a `progress` follows if the counts moved.
        """
        room = self.rooms.get(game.id)
        phase_changed = False
        if room is not None:
            for message in outcome.broadcast:
                data = frame(message)
                for conn in room.conns:
                    conn.send(data)
                if message["type"] == "player_kicked":
                    self._close_player(room, message["player"])
                elif message["type"] == "phase_changed":  # its round view carries the counts
                    room.shown = self.games.kind(game).progress(game)
                    phase_changed = True
                elif message["type"] == "progress":
                    room.shown = {k: v for k, v in message.items() if k not in ("type", "seq")}
            for pid, message in outcome.private.items():
                data = frame(message)
                for conn in room.players.get(pid, ()):
                    conn.send(data)
            if phase_changed:  # out now, before the command's writes start on their way to the store
                self.outbox.flush()
            if game.status == PLAYING and room.progress is None:
                delay = room.progress_at + PROGRESS_INTERVAL - asyncio.get_running_loop().time()
                room.progress = asyncio.get_running_loop().call_later(
                    max(0.0, delay), self._progress, game.id
                )
        if phase_changed:
            self.collector.update(game.id, game.status == PLAYING)
        if outcome.broadcast:
            self.schedule(game)

    def _progress(self, game_id: str) -> None:
        """Tell every view the round's counts, if they moved since the views were last told."""
        room = self.rooms.get(game_id)
        if room is None:
            return
        room.progress = None
        game = self.games.loaded(game_id)
        if game is None or game.status != PLAYING:
            return
        if self.games.kind(game).progress(game) == room.shown:
            return
        room.progress_at = asyncio.get_running_loop().time()
        self.publish(game, self.games.progress(game))

    def _close_player(self, room: Room, pid: str) -> None:
        for conn in list(room.players.get(pid, ())):
            self._spawn(self._close_after_flush(conn, KICKED_CLOSE, b"kicked"))

    async def _close_after_flush(self, conn: Conn, code: int, reason: bytes) -> None:
        for _ in range(50):
            if conn.flushed():
                break
            await asyncio.sleep(0.02)
        await conn.ws.close(code=code, message=reason)

    # -- deadlines ------------------------------------------------------------------------------

    def schedule(self, game: Game) -> None:
        """Keep one timer per game on its current deadline: the server's clock ends every phase."""
        room = self.rooms.setdefault(game.id, Room())
        if room.timer_deadline == game.deadline:
            return
        if room.timer is not None:
            room.timer.cancel()
            room.timer = None
        room.timer_deadline = game.deadline
        if game.deadline is not None:
            delay = max(0.0, (game.deadline - self.games.clock()) / 1000)
            room.timer = asyncio.get_running_loop().call_later(delay, self._deadline, game.id)

    def _deadline(self, game_id: str) -> None:
        room = self.rooms.get(game_id)
        if room is not None:
            room.timer, room.timer_deadline = None, None
        game = self.games.loaded(game_id)
        if game is None:
            return
        try:
            outcome = self.games.tick(game)
        except Rejected:
            return
        self.publish(game, outcome)
        self.schedule(game)

    def refresh(self, game: Game, views: tuple[str, ...] = ("host",)) -> None:
        """Send these views a fresh snapshot: for changes that are not game events (a finished sync)."""
        for conn in self.rooms.get(game.id, Room()).conns:
            if conn.actor is not None and conn.view in views:
                conn.send(frame(self.games.snapshot(game, conn.actor, conn.view)))

    async def resume(self) -> None:
        """After a restart: load live games so their deadlines fire even before anyone reconnects."""
        for game_id in await self.games.live_games():
            game = await self.games.get(game_id)
            if game is not None:
                self.schedule(game)

    # -- lifecycle ------------------------------------------------------------------------------

    def _evicted(self, game_id: str) -> None:
        self.collector.update(game_id, False)
        room = self.rooms.get(game_id)
        if room is not None:
            for conn in list(room.conns):
                self._spawn(conn.ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"reloading game"))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for room in self.rooms.values():
            for handle in (room.timer, room.progress):
                if handle is not None:
                    handle.cancel()
        for ws in list(self.sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        for task in list(self._tasks):
            task.cancel()
        self.collector.close()
