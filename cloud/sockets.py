"""The WebSocket protocol of docs/protocol.md over API Gateway: one message in, replies and fan-out out.

Authorisation happens at `hello`, as on the appliance (not at `$connect`): the token then never
appears in a URL, so it stays out of API Gateway's access logs and browser history, and the pages
speak the same protocol to both runtimes. `$connect` only checks that the game exists and records
the connection. The sender's reply goes straight back through the management API; what a command
tells the other views goes out after its writes commit (cloud.delivery), then its ack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from cloud import announcements, results
from cloud.coalesce import PROGRESS, PROGRESS_INTERVAL, RoomUpdates
from cloud.connections import Connection, Connections
from cloud.deadlines import Deadlines, Timer
from cloud.delivery import INLINE_POSTS, Invoker, Poster, Posts, chunks
from cloud.games import CloudGames, Done
from cloud.phones import Phones
from engagements import auth, items, jsondoc, resultpages, views
from engagements.engine import HOST_COMMANDS, SYSTEM_COMMANDS
from engagements.model import BOARD, HOST, SYSTEM, Actor, Rejected
from engagements.store.base import StoreError
from engagements.telemetry import context
from engagements.telemetry.metrics import (
    ACK_LATENCY,
    COMMANDS,
    CONNECTIONS_CLOSED,
    CONNECTIONS_OPENED,
    FANOUT_LATENCY,
    FANOUT_RECIPIENTS,
    OTHER,
    Telemetry,
    command_names,
)
from engagements.views import Messages

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096
NOT_COMMANDS = views.CORE_REQUESTS | {"hello", "ping", "sync"}  # and a type's own requests
OK = "ok"
# Progress updates to the board views per phase, about, whatever the room: the appliance coalesces
# them in time (four a second); an invocation knows only the counts its own command left.
PROGRESS_STEPS = 40


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def error(code: str, message: str, cmd_id: str = "") -> dict[str, Any]:
    err = {"type": "error", "code": code, "message": message}
    return {**err, "id": cmd_id} if cmd_id else err


class Sockets:
    def __init__(
        self,
        games: CloudGames,
        connections: Connections,
        poster: Poster,
        invoker: Invoker | None,
        deadlines: Deadlines | None,
        room_updates: RoomUpdates,
        *,
        join_base: str,
        allowed_origins: frozenset[str] = frozenset(),
        inline_posts: int = INLINE_POSTS,
        progress_steps: int = PROGRESS_STEPS,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.games = games
        self.connections = connections
        self.poster = poster
        self.invoker = invoker
        self.deadlines = deadlines
        self.room_updates = room_updates
        self.progress_updates = RoomUpdates(
            room_updates.store, deadlines, games.clock, sk=PROGRESS, interval=PROGRESS_INTERVAL
        )
        self.join_base = join_base
        self.allowed_origins = allowed_origins
        self.inline_posts = inline_posts
        self.progress_steps = progress_steps
        self.telemetry = telemetry or Telemetry()
        self.commands = command_names(games.types)  # the `type` labels a command may be counted under
        self.phones = Phones(games)

    # -- the three routes ------------------------------------------------------------------------

    async def connect(self, connection_id: str, game_id: Any, at: int, origin: str | None = None) -> int:
        """200; 403 for a page of another site (`origin`: the handshake's, None from no browser), as
        on the appliance; 404 for no such game (the browser then sees the handshake refused)."""
        if origin is not None and origin.rstrip("/").lower() not in self.allowed_origins:
            return 403
        if not isinstance(game_id, str) or await self.games.meta(game_id) is None:
            return 404
        context.bind(game_id=game_id)  # this invocation's task only
        await self.connections.opened(connection_id, game_id, at)
        self.telemetry.count(CONNECTIONS_OPENED)
        log.debug("socket opened")
        return 200

    async def disconnect(self, connection_id: str) -> None:
        connection = await self.connections.find(connection_id)
        if connection is not None:
            context.bind(game_id=connection.game_id)
            await self.connections.remove(connection)
            self.telemetry.count(CONNECTIONS_CLOSED)
            log.debug("socket closed")
            if connection.player:  # a phone left: the board views see `connected` go down
                await self.room_changed(connection.game_id)

    async def message(self, connection_id: str, text: str, at: int) -> None:
        """One message from a socket; `at` is when API Gateway received it (requestTimeEpoch)."""
        type_, reply = await self._reply(connection_id, text, at)
        if reply is not None:
            await self.reply(connection_id, reply)
        if isinstance(type_, str) and self._not_command(type_):
            return
        kind = self._kind(type_)
        if reply is None:  # acked
            self.telemetry.count(COMMANDS, type=kind, outcome=OK)
            self.telemetry.observe(ACK_LATENCY, max(0, self.games.clock() - at) / 1000, type=kind)
        elif reply.get("type") == "error":
            log.debug("command refused: %s", reply["code"])
            self.telemetry.count(COMMANDS, type=kind, outcome=reply["code"])

    def _not_command(self, type_: str) -> bool:
        return type_ in NOT_COMMANDS or views.is_request(self.games.types, type_)

    def _kind(self, type_: Any) -> str:
        return type_ if isinstance(type_, str) and type_ in self.commands else OTHER

    # -- dispatch --------------------------------------------------------------------------------

    async def _reply(self, connection_id: str, text: str, at: int) -> tuple[Any, dict[str, Any] | None]:
        if len(text.encode()) > MAX_MESSAGE:
            return None, error("too_large", f"Messages are at most {MAX_MESSAGE} bytes.")
        try:
            msg = jsondoc.loads(text)
        except jsondoc.BadJson as e:
            return None, error("bad_json", f"That message is not JSON we read: {e}")
        if not isinstance(msg, dict):
            return None, error("bad_json", "A message is a JSON object.")
        type_ = msg.pop("type", None)
        cmd_id = msg.pop("id", "")
        if not isinstance(cmd_id, str) or len(cmd_id) > 64:
            return type_, error("bad_message", "`id` is a string of at most 64 characters.")
        if not isinstance(type_, str):
            return type_, error("bad_message", "A message needs a `type`.", cmd_id)
        if type_ == "ping":
            t = msg.get("t")
            return type_, {
                "type": "pong",
                "t": t if isinstance(t, int | float) else None,
                "now": self.games.clock(),
            }
        if not self._not_command(type_):
            context.bind(command_id=cmd_id, command=self._kind(type_))  # this invocation's task only
        try:
            connection = await self.connections.spend(connection_id, at, sync=type_ == "sync")
            if connection is None:
                raise Rejected("unauthorized", "This connection is not open to a game.")
            context.bind(game_id=connection.game_id)
            if type_ == "hello":
                return type_, await self._hello(connection, msg)
            if connection.view is None:
                raise Rejected("not_authenticated", "Say hello with your token first.")
            if type_ == "sync":
                return type_, await self._snapshot(connection)
            if views.is_request(self.games.types, type_):
                reply = await self._request(connection, type_, msg)
                return type_, {**reply, "id": cmd_id} if cmd_id else reply
            if not cmd_id:
                raise Rejected("bad_message", "A command needs an `id`.")
            self._screen(connection, type_)
            log.debug("command received")
            announce = type_ in HOST_COMMANDS  # a phase change nothing retries: marked (cloud.announcements)
            done = await self.games.execute(
                connection.game_id, actor_of(connection), type_, msg, cmd_id, at, announce=announce
            )
        except Rejected as e:
            return type_, error(e.code, e.message, cmd_id)
        except StoreError:
            log.exception("a command could not be saved")
            return type_, error("internal", "That could not be saved: please try again.", cmd_id)
        await (self.announce if announce else self.after)(connection.game_id, done)
        await self.reply(connection_id, {"type": "ack", "id": cmd_id, **done.ack})
        log.debug("command acked")
        if done.settle:
            await self.settle(connection.game_id)
        if done.ranked:  # the host's moderation is shown at once, the room's questions and votes coalesced
            await self.ranked_changed(connection.game_id, at_once=connection.view != "player")
        return type_, None

    def _screen(self, connection: Connection, type_: str) -> None:
        """Refuse what the engine would refuse anyway before reading the game for it: an unknown
        command, or the host's from a phone, costs a hostile client's invocation no table reads."""
        if type_ in SYSTEM_COMMANDS:
            raise Rejected("forbidden", "Only the server sends this.")
        kinds = self.games.types.values()
        if type_ in HOST_COMMANDS or any(type_ in kind.host_commands for kind in kinds):
            if connection.view == "player":
                raise Rejected("forbidden", "Only the host can do that.")
        elif not any(type_ in kind.commands for kind in kinds):
            raise Rejected("unknown_type", f"Unknown command {type_!r}.")

    async def _hello(self, connection: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        if msg.get("view") == "player":
            return await self._phone_hello(connection, msg.get("token"))
        loaded = await self.games.load(connection.game_id)
        if loaded is None:
            raise Rejected("unauthorized", "There is no such game.")
        game, _ = loaded
        auth.authenticate(game, msg.get("token"), msg.get("view"))
        bound = await self.connections.bind(connection, msg["view"], None, self.games.clock())
        return self._render(game, bound)

    async def _phone_hello(self, connection: Connection, token: Any) -> dict[str, Any]:
        """A phone's hello reads its own items and the game's shared view, not the whole game
        (cloud.phones): its cost does not grow with the room."""
        game, meta, item = await self.phones.seat(connection.game_id, token)
        player = item["player_id"]
        sockets = item.get(items.SOCKETS, 0)
        bound = await self.connections.bind(connection, "player", player, self.games.clock(), sockets)
        if not game.players[player].seen:  # the seat is used: from now on a phase waits for it
            await self.games.execute(
                connection.game_id, SYSTEM, "presence", {"player": player, "connected": True}
            )
            meta = None  # its counters changed: the snapshot reads META again
        await self.room_changed(connection.game_id)
        return await self._phone_snapshot(bound, meta, item)

    async def _snapshot(self, connection: Connection) -> dict[str, Any]:
        if connection.view == "player" and connection.player:
            return await self._phone_snapshot(connection)
        loaded = await self.games.load(connection.game_id)
        if loaded is None:
            raise Rejected("unauthorized", "There is no such game.")
        return self._render(loaded[0], connection)

    async def _phone_snapshot(
        self, connection: Connection, meta: dict[str, Any] | None = None, item: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """From a few items when they suffice, else from the whole game (cloud.phones)."""
        assert connection.player is not None
        snapshot = await self.phones.snapshot(
            connection.game_id, connection.player, self.join_url, meta, item
        )
        if snapshot is not None:
            return {**snapshot, "now": self.games.clock()}
        loaded = await self.games.load(connection.game_id)
        if loaded is None:
            raise Rejected("unauthorized", "There is no such game.")
        return self._render(loaded[0], connection)

    def _render(self, game: Any, connection: Connection) -> dict[str, Any]:
        snapshot = views.snapshot(
            game, self.games.types, actor_of(connection), connection.view or "", self.join_url(game.code)
        )
        return {**snapshot, "now": self.games.clock()}

    def join_url(self, code: str) -> str:
        return f"{self.join_base}/j/{code}"

    async def _request(self, connection: Connection, type_: str, msg: dict[str, Any]) -> dict[str, Any]:
        if connection.view != "host":
            raise Rejected("forbidden", "Only the host can do that.")
        if type_ == "results" and (page := await self._results_page(connection.game_id, msg)) is not None:
            return page
        loaded = await self.games.load(connection.game_id)
        if loaded is None:
            raise Rejected("unauthorized", "There is no such game.")
        return views.request(loaded[0], self.games.types, type_, msg)

    async def _results_page(self, game_id: str, msg: dict[str, Any]) -> dict[str, Any] | None:
        """A page of a scored round's results from META and its page items (cloud.results), or None
        when they are not there: the whole game answers then."""
        meta = await self.games.meta(game_id)
        if meta is None:
            raise Rejected("unauthorized", "There is no such game.")
        bare = items.load_game([meta], self.games.types)  # its outcomes say which rounds have results
        round, offset = views.results_wanted(bare, msg.get("round"), msg.get("offset"))
        store = self.games.store
        listing = await results.read(store, meta, round, resultpages.HOST, offset, views.RESULTS_PAGE)
        return None if listing is None else views.results_reply(round, offset, listing.total, listing.rows)

    # -- after a command -------------------------------------------------------------------------

    async def after(self, game_id: str, done: Done) -> None:
        """Tell the views what a committed command changed, and start the timer of a phase it opened."""
        await self.deliver(game_id, done.messages)
        step = max(1, done.players // self.progress_steps)
        if done.progress is not None and done.entered % step == 0:
            board = await self.connections.of_game(game_id, BOARD)
            await self.post(game_id, [(c.id, [encode(done.progress)]) for c in board])
        if done.deadline is not None and self.deadlines is not None:
            await asyncio.to_thread(self.deadlines.schedule, game_id, done.deadline, self.games.clock())

    async def room_changed(self, game_id: str) -> None:
        """A player joined, or a phone's socket opened or closed: the board views see the room,
        coalesced in time as on the appliance (cloud.coalesce)."""
        if await self.room_updates.due(game_id):
            await self.show_room(game_id)

    async def show_room(self, game_id: str) -> None:
        room = await self.games.room(game_id)
        if room is not None:
            board = await self.connections.of_game(game_id, BOARD)
            await self.post(game_id, [(c.id, [encode({"type": "room", **room})]) for c in board])

    async def ranked_changed(self, game_id: str, *, at_once: bool = False) -> None:
        """A ranked round's entries moved (a question, a vote): every view sees the heads of its lists,
        coalesced in time (cloud.coalesce), or `at_once`."""
        if at_once or await self.progress_updates.due(game_id):
            await self.show_progress(game_id)

    async def show_progress(self, game_id: str) -> None:
        """The heads of the round's lists, and of the lane's when a type runs alongside the rounds."""
        shown = await asyncio.gather(self.games.ranked_progress(game_id), self.games.lane_progress(game_id))
        frames = [encode(p) for p in shown if p is not None]  # the same for every view
        if frames:
            await self.post(game_id, [(c.id, frames) for c in await self.connections.of_game(game_id)])

    async def timer(self, timer: Timer) -> None:
        """The deadline queue delivered a phase's deadline, or a queued update's turn."""
        if timer.deadline is not None:
            await self.tick(timer.game_id, timer.deadline)
        elif timer.update == PROGRESS:
            await self.show_progress(timer.game_id)
        else:
            await self.show_room(timer.game_id)

    async def settle(self, game_id: str) -> None:
        """Close the phase if everyone has finished it, judged from the whole game."""
        try:
            done = await self.games.execute(game_id, SYSTEM, "settle", {}, announce=True)
        except (Rejected, StoreError):
            log.exception("game %s could not be settled; its deadline will close the phase", game_id)
            return
        await self.announce(game_id, done)

    async def tick(self, game_id: str, deadline: int) -> None:
        """The deadline timer fired: close the phase if that deadline is still the game's and has passed.
        The phase change stays marked on META until it is announced (cloud.announcements): a retry of
        this message after a commit whose posts never went out announces it then, and so does this
        tick when `settle` closed the phase early in an invocation that died before its posts."""
        meta = await self.games.meta(game_id)
        if meta is None:
            return
        if meta.get("deadline") != deadline:  # closed already: early (everyone finished), or by us
            if announcements.pending(meta, deadline):
                await self.announce_again(game_id, deadline)
            return
        now = self.games.clock()
        if now < deadline and self.deadlines is not None:  # delivered early: this clock is behind
            await asyncio.to_thread(self.deadlines.schedule, game_id, deadline, now)
            return
        done = await self.games.execute(game_id, SYSTEM, "tick", {}, at=max(now, deadline), announce=True)
        await self.announce(game_id, done)

    async def announce(self, game_id: str, done: Done) -> None:
        """`after` a phase change marked unannounced on META, then the mark removed, then the writes
        the posts did not wait for (the scores, and the state only a phone's snapshot reads)."""
        await self.after(game_id, done)
        if done.marked is not None:
            await announcements.clear(self.games.store, game_id, done.marked)
        await done.derived()

    async def announce_again(self, game_id: str, deadline: int) -> None:
        """The phase change of `deadline`'s tick was saved and maybe never posted: post it from the
        game as it is now and queue META's deadline (both harmless if they were done already)."""
        loaded = await self.games.load(game_id)
        if loaded is None:
            return
        game, meta = loaded
        log.warning("game %s: announcing the phase change of deadline %d again", game_id, deadline)
        await self.deliver(game_id, announcements.messages(game, self.games.types, meta))
        if game.deadline is not None and self.deadlines is not None:
            await asyncio.to_thread(self.deadlines.schedule, game_id, game.deadline, self.games.clock())
        await announcements.clear(self.games.store, game_id, deadline)

    async def deliver(self, game_id: str, messages: Messages) -> None:
        if not (messages.broadcast or messages.private or messages.kicked):
            return
        started = time.perf_counter()
        connections = await self.connections.of_game(game_id)
        encoded = [
            {audience: encode(m) for audience, m in renditions.items()} for renditions in messages.broadcast
        ]
        kicked = set(messages.kicked)
        gone_notice = encode(error("kicked", "The host removed you from this game."))
        posts: Posts = []
        for c in connections:
            frames = [renditions[c.audience] for renditions in encoded if c.audience in renditions]
            if c.player in messages.private:
                frames.append(encode(messages.private[c.player]))
            if c.player in kicked:
                frames.append(gone_notice)
            if frames:
                posts.append((c.id, frames))
        await self.post(game_id, posts)
        self.telemetry.observe(FANOUT_RECIPIENTS, len(posts))
        self.telemetry.observe(FANOUT_LATENCY, time.perf_counter() - started)
        for c in connections:
            if c.player in kicked:
                await asyncio.to_thread(self.poster.close, c.id)
                await self.connections.remove(c)

    async def post(self, game_id: str, posts: Posts) -> None:
        """Inline for a small room; through the fan-out function, asynchronously, for a large one."""
        if len(posts) <= self.inline_posts or self.invoker is None:
            report = await asyncio.to_thread(self.poster.post, posts)
            await self.forget(report.gone)
            return
        invoker = self.invoker  # the chunks' invocations at once: a phase change at 1,000 phones has ~13
        await asyncio.gather(
            *(asyncio.to_thread(invoker.invoke, {"game_id": game_id, "posts": c}) for c in chunks(posts))
        )

    async def fanout(self, event: dict[str, Any]) -> dict[str, int]:
        """The fan-out function's work: `posts`, or `frames` to `connections` or to an `audience`."""
        game_id = event["game_id"]
        if "posts" in event:
            posts: Posts = [(c, list(frames)) for c, frames in event["posts"]]
        elif "connections" in event:
            posts = [(c, list(event["frames"])) for c in event["connections"]]
        else:
            found = await self.connections.of_game(game_id, event.get("audience"))
            posts = [(c.id, list(event["frames"])) for c in found]
        report = await asyncio.to_thread(self.poster.post, posts)
        await self.forget(report.gone)
        return {
            "sent": report.sent,
            "gone": len(report.gone),
            "throttled": report.throttled,
            "failed": len(report.failed),
        }

    async def forget(self, connection_ids: list[str]) -> None:
        """Sockets API Gateway says are gone: their items go, and the rooms they were in change."""
        if not connection_ids:
            return
        gone = await self.connections.remove_ids(connection_ids)
        for game_id in {c.game_id for c in gone if c.player}:
            await self.room_changed(game_id)

    async def reply(self, connection_id: str, message: dict[str, Any]) -> None:
        report = await asyncio.to_thread(self.poster.post, [(connection_id, [encode(message)])])
        await self.forget(report.gone)


def actor_of(connection: Connection) -> Actor:
    if connection.view == "player" and connection.player:
        return Actor("player", connection.player)
    return HOST
