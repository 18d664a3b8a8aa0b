"""Dispatch: one message from a socket in, its reply (and the command's effects) out.

Session messages (hello, ping, sync) and the host's read-only requests (players, results) are answered
here; commands go through the service's one door, their messages to the rooms, and their `ack` waits
until what they changed is durable. Every message is judged by when it arrived, and in a burst waits
its turn (web/turns.py) before it is handled.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from engagements import jsondoc, views
from engagements.model import Game, Rejected
from engagements.service import Games
from engagements.store.base import StoreError
from engagements.telemetry import context
from engagements.telemetry.metrics import ACK_LATENCY, COMMANDS, OTHER, Telemetry, command_names
from web.connection import Conn
from web.deadlines import Deadlines
from web.refusals import Refusals
from web.rooms import Rooms
from web.turns import Turns
from web.wire import frame

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096
OK = "ok"
SESSION_TYPES = frozenset({"hello", "ping", "sync"})
REQUEST_TYPES = views.CORE_REQUESTS  # the host's; they read and change nothing (and types' own)


class Dispatcher:
    def __init__(
        self,
        games: Games,
        rooms: Rooms,
        deadlines: Deadlines,
        refusals: Refusals,
        turns: Turns,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.games = games
        self.turns = turns
        self.rooms = rooms
        self.deadlines = deadlines
        self.refusals = refusals
        self.telemetry = telemetry or Telemetry()
        self.commands = command_names(games.types)  # the `type` labels a command may be counted under

    async def receive(self, conn: Conn, text: str) -> None:
        started = time.perf_counter()
        type_, outcome = await self._receive(conn, text)
        if outcome is None:  # a session message or a request: no command
            return
        kind = type_ if isinstance(type_, str) and type_ in self.commands else OTHER
        self.telemetry.count(COMMANDS, type=kind, outcome=outcome)
        if outcome == OK:
            self.telemetry.observe(ACK_LATENCY, time.perf_counter() - started, type=kind)

    async def _receive(self, conn: Conn, text: str) -> tuple[Any, str | None]:
        """Handles one message: (its type, and for a command or a message refused unread, its outcome:
        `ok`, or the error code the sender got; None for a session message or a request)."""
        # Judged by when it reached the appliance, as the cloud judges by API Gateway's request time:
        # an answer sent in time is in time, however long a burst keeps it waiting for its turn.
        at = self.games.clock() - conn.arrived_ms_ago()
        await self.turns.wait()
        if len(text) > MAX_MESSAGE:
            return None, refuse(conn, "too_large", f"Messages are at most {MAX_MESSAGE} bytes.")
        allowed = conn.allow()
        try:
            msg = jsondoc.loads(text)
        except jsondoc.BadJson as e:
            return None, refuse(conn, "bad_json", f"That message is not JSON we read: {e}")
        if not isinstance(msg, dict):
            return None, refuse(conn, "bad_json", "A message is a JSON object.")
        type_ = msg.pop("type", None)
        cmd_id = msg.pop("id", "")
        if not isinstance(cmd_id, str) or len(cmd_id) > 64:
            return type_, refuse(conn, "bad_message", "`id` is a string of at most 64 characters.")
        if not allowed:  # with the command's id, so the client knows which one to send again
            self.refusals.note(conn.client, "messages")
            return type_, refuse(conn, "rate_limited", "Too many messages: slow down.", cmd_id)
        if not isinstance(type_, str):
            return type_, refuse(conn, "bad_message", "A message needs a `type`.", cmd_id)
        if type_ in SESSION_TYPES or views.is_request(self.games.types, type_):
            try:
                await self._message(conn, type_, msg, cmd_id)
            except Rejected as e:
                error(conn, e.code, e.message, cmd_id)
            return type_, None
        token = context.bind(command_id=cmd_id, command=type_ if type_ in self.commands else OTHER)
        try:
            if conn.actor is None:
                raise Rejected("not_authenticated", "Say hello with your token first.")
            game = await self._game(conn)
            if not cmd_id:
                raise Rejected("bad_message", "A command needs an `id`.")
            log.debug("command received")
            with self.telemetry.span("command", game_id=game.id, command=type_, command_id=cmd_id):
                return type_, await self._command(conn, game, type_, msg, cmd_id, at)
        except Rejected as e:
            log.debug("command refused: %s", e.code)
            return type_, refuse(conn, e.code, e.message, cmd_id)
        finally:
            context.reset(token)

    async def _message(self, conn: Conn, type_: str, msg: dict[str, Any], cmd_id: str) -> None:
        """A session message or one of the host's requests (raises Rejected)."""
        if type_ in SESSION_TYPES:
            return await self._session(conn, type_, msg)
        if conn.actor is None:
            raise Rejected("not_authenticated", "Say hello with your token first.")
        game = await self._game(conn)
        reply = self._request(game, conn, type_, msg)
        conn.send(frame({**reply, "id": cmd_id} if cmd_id else reply))

    async def _command(
        self, conn: Conn, game: Game, type_: str, msg: dict[str, Any], cmd_id: str, at: int
    ) -> str:
        """Applies a command (raises Rejected), shows its effects, acks it once durable: its outcome."""
        assert conn.actor is not None
        outcome = self.games.execute(game, conn.actor, type_, msg, cmd_id, at)
        self.rooms.deliver(game, outcome)
        if outcome.messages.broadcast:
            self.deadlines.schedule(game)
        try:
            await outcome.saved()
        except StoreError:
            error(conn, "internal", "That could not be saved: please try again.", cmd_id)
            log.debug("command not saved")
            return "internal"
        conn.send(frame({"type": "ack", "id": cmd_id, **outcome.ack}))
        log.debug("command acked")
        return OK

    async def _session(self, conn: Conn, type_: str, msg: dict[str, Any]) -> None:
        if type_ == "ping":
            t = msg.get("t")
            pong = {"type": "pong", "t": t if isinstance(t, int | float) else None, "now": self.games.clock()}
            return conn.send(frame(pong))
        if type_ == "sync":
            if conn.actor is None:
                raise Rejected("not_authenticated", "Say hello with your token first.")
            if not conn.allow_sync():
                self.refusals.note(conn.client, "sync")
                raise Rejected("rate_limited", "Too many sync requests: one every few seconds is plenty.")
            game = await self._game(conn)
            if conn.backed_up():  # not reading: one snapshot, once it reads again, is all it will get
                return conn.fall_behind()
            await self.rooms.caught_up(game)
            return conn.send(self.snapshot(game, conn))
        game = await self.games.get(conn.game_id)
        if game is None:
            raise Rejected("unauthorized", "There is no such game on this server.")
        actor = self.games.authenticate(game, msg.get("token"), msg.get("view"))
        await self.rooms.caught_up(game)
        self.leave(conn)
        conn.actor, conn.view = actor, msg["view"]
        conn.resync = lambda: self._resync(conn)
        conn.send(self.snapshot(game, conn))  # then every later event, in order
        if self.rooms.enter(conn, game, self.games.types) and actor.player:
            self.rooms.deliver(game, self.games.presence(game, actor.player, True))
        self.deadlines.schedule(game)

    def leave(self, conn: Conn) -> None:
        """The socket closed (or said hello again): its player may have left the room."""
        player = conn.actor.player if conn.actor else None
        game = self.rooms.leave(conn)
        if game is not None and player in game.players:
            self.rooms.deliver(game, self.games.presence(game, player, False))

    def _request(self, game: Game, conn: Conn, type_: str, msg: dict[str, Any]) -> dict[str, Any]:
        if conn.view != "host":
            raise Rejected("forbidden", "Only the host can do that.")
        return views.request(game, self.games.types, type_, msg)

    def snapshot(self, game: Game, conn: Conn) -> bytes:
        assert conn.actor is not None
        return frame(self.games.snapshot(game, conn.actor, conn.view))

    async def _resync(self, conn: Conn) -> bytes | None:
        """A snapshot for a socket that fell behind, taken once the game's messages still waiting for
        their writes are out: taken before, it would show events that are then sent to it again."""
        game = self.games.loaded(conn.game_id)
        if game is None:
            return None
        await self.rooms.caught_up(game)
        return None if conn.actor is None else self.snapshot(game, conn)

    async def _game(self, conn: Conn) -> Game:
        game = await self.games.get(conn.game_id)
        if game is None:
            raise Rejected("unauthorized", "There is no such game on this server.")
        return game


def refuse(conn: Conn, code: str, message: str, cmd_id: str = "") -> str:
    """Send the error; its code is the command's outcome."""
    error(conn, code, message, cmd_id)
    return code


def error(conn: Conn, code: str, message: str, cmd_id: str = "") -> None:
    err = {"type": "error", "code": code, "message": message}
    if cmd_id:
        err["id"] = cmd_id
    conn.send(frame(err))
