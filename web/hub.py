"""The WebSocket hub: one socket per view, rooms per game, broadcasts encoded once and queued per socket.

Each socket has its own bounded send queue drained by its own task, so a phone that stops reading
never stalls a broadcast to the others; one that falls too far behind gets a fresh snapshot instead
of its backlog. Only the handler task reads a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from engagements.model import Actor, Game, Rejected
from engagements.service import Games, Outcome
from engagements.store.base import StoreError

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096
QUEUE_LIMIT = 256
KICKED_CLOSE = 4003
RATE = 10.0  # messages a second a socket may send on average
BURST = 30.0
SESSION_TYPES = frozenset({"hello", "ping", "sync"})


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    game_id: str
    actor: Actor | None = None
    view: str = ""
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    behind: bool = False  # the queue overflowed: the writer sends a snapshot instead of the backlog
    allowance: float = BURST
    checked: float = field(default_factory=time.monotonic)

    def send(self, data: str) -> None:
        if self.behind:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.behind = True
            while not self.queue.empty():
                self.queue.get_nowait()

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


class Hub:
    def __init__(self, games: Games) -> None:
        self.games = games
        self.rooms: dict[str, Room] = {}
        self.sockets: set[web.WebSocketResponse] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        games.on_evict = self._evicted

    # -- the socket -----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=25, compress=False, max_msg_size=64 * 1024)
        await ws.prepare(request)
        conn = Conn(ws, request.match_info["game_id"])
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
        while True:
            data = await conn.queue.get()
            if data is None:
                return
            if conn.behind:
                conn.behind = False
                game = await self.games.get(conn.game_id)
                if game is None or conn.actor is None:
                    return
                data = encode(self.games.snapshot(game, conn.actor, conn.view))
            try:
                await conn.ws.send_str(data)
            except (ConnectionError, RuntimeError):
                return

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
        conn.send(encode({"type": "ack", "id": cmd_id, **outcome.ack}))

    async def _session(self, conn: Conn, type_: str, msg: dict[str, Any]) -> None:
        if type_ == "ping":
            t = msg.get("t")
            return conn.send(
                encode(
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
            return conn.send(encode(self.games.snapshot(game, conn.actor, conn.view)))
        game = await self.games.get(conn.game_id)
        if game is None:
            raise Rejected("unauthorized", "There is no such game on this server.")
        actor = self.games.authenticate(game, msg.get("token"), msg.get("view"))
        self._leave(conn)
        conn.actor, conn.view = actor, msg["view"]
        room = self.rooms.setdefault(game.id, Room())
        room.conns.add(conn)
        conn.send(encode(self.games.snapshot(game, actor, conn.view)))  # then every later event, in order
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
        conn.send(encode(err))

    # -- fan-out --------------------------------------------------------------------------------

    def publish(self, game: Game, outcome: Outcome) -> None:
        """Send what a command changed: broadcasts to every view, `you` replies to their players."""
        room = self.rooms.get(game.id)
        if room is not None:
            for message in outcome.broadcast:
                data = encode(message)
                for conn in room.conns:
                    conn.send(data)
                if message["type"] == "player_kicked":
                    self._close_player(room, message["player"])
            for pid, message in outcome.private.items():
                data = encode(message)
                for conn in room.players.get(pid, ()):
                    conn.send(data)
        if outcome.broadcast:
            self.schedule(game)

    def _close_player(self, room: Room, pid: str) -> None:
        for conn in list(room.players.get(pid, ())):
            self._spawn(self._close_after_flush(conn, KICKED_CLOSE, b"kicked"))

    async def _close_after_flush(self, conn: Conn, code: int, reason: bytes) -> None:
        for _ in range(50):
            if conn.queue.empty():
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
                conn.send(encode(self.games.snapshot(game, conn.actor, conn.view)))

    async def resume(self) -> None:
        """After a restart: load live games so their deadlines fire even before anyone reconnects."""
        for game_id in await self.games.live_games():
            game = await self.games.get(game_id)
            if game is not None:
                self.schedule(game)

    # -- lifecycle ------------------------------------------------------------------------------

    def _evicted(self, game_id: str) -> None:
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
            if room.timer is not None:
                room.timer.cancel()
        for ws in list(self.sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        for task in list(self._tasks):
            task.cancel()
