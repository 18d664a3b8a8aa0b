"""Games as a service: the engine's decisions made durable in the store, for any front end.

The engine runs without awaiting anything, so the commands of one game are applied one at a time in
arrival order without a lock, and their writes are queued in that same order. The caller broadcasts
the resulting messages at once but acknowledges a command only after `Outcome.durable` resolves:
what a player was told is saved survives a kill -9.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from engagements import auth, items, lifecycle, seats, views
from engagements.codes import is_code, is_id, new_id, normalize_code
from engagements.commands import apply
from engagements.creation import Created, new_game
from engagements.engine import seat_of
from engagements.model import FINISHED, SYSTEM, Actor, Command, Game, Rejected
from engagements.store.base import (
    MAX_TRANSACT_ITEMS,
    Store,
    StoreError,
    TransactionCanceled,
    Write,
)
from engagements.telemetry.metrics import GAMES_CREATED, GAMES_FINISHED, STORE_WRITE_LATENCY, Telemetry
from engagements.types import EngagementType

log = logging.getLogger(__name__)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Outcome:
    """What a command did: its ack, its messages to the views, and the writes that make it durable."""

    ack: dict[str, Any]
    messages: views.Messages = field(default_factory=views.Messages)
    durable: asyncio.Future[None] | None = None  # every write saved: the ack may go
    # The writes its messages depend on saved (the atomic group: scores are recomputed from the entries
    # after a crash): its messages may go. None: the same as `durable`.
    showable: asyncio.Future[None] | None = None

    async def saved(self) -> None:
        if self.durable is not None:
            await self.durable

    @property
    def shown_after(self) -> asyncio.Future[None] | None:
        return self.showable if self.showable is not None else self.durable

    def may_show(self) -> bool:
        """Once `shown_after` is done: whether its writes were saved (a failure was logged by the service)."""
        after = self.shown_after
        return after is None or (not after.cancelled() and after.exception() is None)


class Games:
    def __init__(
        self,
        store: Store,
        types: dict[str, EngagementType],
        *,
        join_base: str,
        retention_days: int = 7,
        clock: Callable[[], int] = now_ms,
        on_evict: Callable[[str], None] = lambda game_id: None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.store = store
        self.telemetry = telemetry or Telemetry()
        self.types = types
        self.join_base = join_base.rstrip("/")
        self.retention_days = retention_days
        self.clock = clock
        self._games: dict[str, Game] = {}
        self._codes: dict[str, str] = {}  # join code -> id of the games in memory (find_code)
        self._loading: dict[str, asyncio.Lock] = {}
        self._in_flight: set[asyncio.Future[None]] = set()
        self._last_write: dict[str, asyncio.Future[None]] = {}
        self._keeping: dict[str, asyncio.TimerHandle] = {}
        self._seating: dict[str, asyncio.Future[None]] = {}  # player id -> its join's pending write
        self.keep_delay = 2.0  # seconds between a game finishing and its items losing their expiry
        self.on_evict = on_evict  # the game's memory and store may disagree: its views must reload
        self.on_finished: Callable[[], None] = lambda: None  # once a finished game will keep
        # Writes saved in the same transaction as the command that finishes a game (its webhook
        # deliveries: web.webhooks), and what to call once they are durable.
        self.finish_writes: Callable[[Game], list[Write]] = lambda game: []
        self.on_finish_saved: Callable[[], None] = lambda: None

    def join_url(self, game: Game) -> str:
        return f"{self.join_base}/j/{game.code}"

    # -- creating and finding games -------------------------------------------------------------

    async def create(
        self, title: Any, prompts: Any, type_slug: Any = None, settings: dict[str, Any] | None = None
    ) -> Created:
        for _ in range(5):  # a code already in use is astronomically rare: draw again
            created = new_game(self.types, title, prompts, type_slug, settings, now=self.clock())
            game = created.game
            try:
                await self.store.transact_write(items.creation_writes(game, self._ttl(game)))
            except TransactionCanceled:
                continue
            self._remember(game)
            self.telemetry.count(GAMES_CREATED)
            created.saved()
            return created
        raise StoreError("could not find a free join code")

    async def find_code(self, raw: str) -> str | None:
        code = normalize_code(raw)
        if not is_code(code):
            return None
        game = self._games.get(self._codes.get(code, ""))
        if game is not None and game.status != FINISHED and self._ttl(game) > self.clock() // 1000:
            # A game in the lobby or playing holds its CODE item until that expires: no read for a join
            # (at thousands of joins a minute, the store's read pool was a seventh of a join's cost).
            return game.id
        item = await self.store.get(items.code_pk(code), "CODE")
        return None if item is None else item["game_id"]

    def _remember(self, game: Game) -> None:
        self._games[game.id] = game
        self._codes[game.code] = game.id

    def in_memory(self) -> list[Game]:
        """The games loaded now (the metrics' gauges)."""
        return list(self._games.values())

    def loaded(self, game_id: str) -> Game | None:
        """The game if it is in memory; never touches the store (for timers and disconnects)."""
        return self._games.get(game_id)

    async def get(self, game_id: str) -> Game | None:
        game = self._games.get(game_id)
        if game is not None:
            return game
        if not is_id(game_id):
            return None
        lock = self._loading.setdefault(game_id, asyncio.Lock())
        async with lock:
            game = self._games.get(game_id)
            if game is None:
                found = await self.store.query_all(items.game_pk(game_id))
                meta = next((i for i in found if i["SK"] == items.META), None)
                if meta is None:
                    return None
                game = items.load_game(found, self.types)
                self._remember(game)
                if lifecycle.needs_keeping(meta, found):
                    self._keep(game)  # the server stopped before the finished game's items were kept
        self._loading.pop(game_id, None)
        return game

    async def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        return await lifecycle.recent(self.store, limit)

    async def live_games(self) -> list[str]:
        """Games in the lobby or playing, from the index: resumed (timers and all) after a restart."""
        return [i["id"] for i in await self.store.query_all(items.LIVE, index="GSI1")]

    # -- players and authorisation --------------------------------------------------------------

    async def join(
        self,
        game: Game,
        nickname: Any,
        previous_token: Any = None,
        *,
        client_id: Any = None,
        device_id: Any = None,
        address: str = "",
    ) -> tuple[str, str, Outcome]:
        """A seat: the player id, its token (stored only hashed) and what the join changed.

        A join that carries a client id (random, made by the browser for this join) gets a token
        derived from it, so its retry (the reply was lost) finds the same seat and the same token
        instead of `nickname_taken` and a ghost seat. The device id and the address are kept hashed
        with the game's secret, for the kick's ban.
        """
        if isinstance(previous_token, str):
            old = self.player_for(game, previous_token)
            if old is not None and game.players[old].kicked:
                raise Rejected("kicked", "The host removed you from this game.")
        who = seats.identity(game, client_id, device_id, address)
        seated = seat_of(game, who.client)
        if seated is not None:
            token = seats.retry_token(game, seated, who)
            return seated, token, Outcome({}, durable=self._seating.get(seated))
        player_id = new_id("p", 10)
        token, token_hash = seats.new_token(game, player_id, who)
        fields = {"player_id": player_id, "nickname": nickname, "token_hash": token_hash, **who.fields()}
        outcome = self.execute(game, SYSTEM, "join", fields)
        if who.client and outcome.durable is not None:  # a retry before it is saved waits for the same write
            pending = asyncio.ensure_future(outcome.durable)
            self._seating[player_id] = outcome.durable = pending
            pending.add_done_callback(lambda _: self._seating.pop(player_id, None))
        return player_id, token, outcome

    def player_for(self, game: Game, token: str) -> str | None:
        return auth.player_for(game, token)

    def authenticate(self, game: Game, token: Any, view: Any) -> Actor:
        return auth.authenticate(game, token, view)

    def snapshot(self, game: Game, actor: Actor, view: str) -> dict[str, Any]:
        snapshot = views.snapshot(game, self.types, actor, view, self.join_url(game))
        return {**snapshot, "now": self.clock()}

    # -- commands -------------------------------------------------------------------------------

    def execute(
        self,
        game: Game,
        actor: Actor,
        type_: str,
        fields: dict[str, Any],
        cmd_id: str = "",
        at: int | None = None,
    ) -> Outcome:
        """Apply one command now; raises Rejected. Await `saved()` before acknowledging it."""
        cmd = Command(type_, actor, fields, self.clock() if at is None else at, cmd_id)
        applied = apply(game, self.types, cmd, self._ttl(game))
        finished = applied.finishes
        atomic = applied.atomic + self.finish_writes(game) if finished else applied.atomic
        writes = atomic or applied.scores
        durable, showable = self._write(game, atomic, applied.scores) if writes else (None, None)
        if finished and durable is not None:
            durable.add_done_callback(lambda _: self.on_finish_saved())
        if finished:
            self.telemetry.count(GAMES_FINISHED)
            # Rewriting every item of the game would compete with the podium's broadcast (and with
            # every other game finishing in the same second): it waits a moment.
            handle = asyncio.get_running_loop().call_later(self.keep_delay, self._keep, game)
            self._keeping[game.id] = handle
        return Outcome(applied.ack, applied.messages, durable, showable)

    def _keep(self, game: Game) -> None:
        self._keeping.pop(game.id, None)
        task = asyncio.ensure_future(self._keep_forever(game))
        self._in_flight.add(task)
        task.add_done_callback(self._settled)

    async def _keep_forever(self, game: Game) -> None:
        try:
            await lifecycle.keep(self.store, lifecycle.game_keep_writes(game, self._ttl(game)))
        except Exception as e:  # logged, not raised: nobody awaits this task
            log.error("game %s may still expire: %s", game.id, e)
            return
        self.on_finished()

    def tick(self, game: Game) -> Outcome:
        return self.execute(game, SYSTEM, "tick", {})

    def presence(self, game: Game, player: str, connected: bool) -> Outcome:
        return self.execute(game, SYSTEM, "presence", {"player": player, "connected": connected})

    def _write(
        self, game: Game, atomic: list[Write], scores: list[Write]
    ) -> tuple[asyncio.Future[None], asyncio.Future[None] | None]:
        """Start saving a command's writes, keeping the order of the game's commands: (all of them
        saved, the atomic group saved when scores follow it).

        With an ordered store the task's first step queues the writes, so tasks started in order
        write in order and a burst of answers shares commits; otherwise each waits for the last.
        """
        before = None if self.store.ordered_writes else self._last_write.get(game.id)
        showable = asyncio.get_running_loop().create_future() if atomic and scores else None
        durable = asyncio.ensure_future(self._persist(game, atomic, scores, before, showable))
        if not self.store.ordered_writes:
            self._last_write[game.id] = durable
            durable.add_done_callback(partial(self._forget_last, game.id))
        self._in_flight.add(durable)
        durable.add_done_callback(self._settled)
        return durable, showable

    async def _persist(
        self,
        game: Game,
        atomic: list[Write],
        scores: list[Write],
        before: asyncio.Future[None] | None,
        showable: asyncio.Future[None] | None,
    ) -> None:
        if before is not None:
            await asyncio.wait([before])  # its failure is its own command's to report
        try:
            for writes in (atomic, scores):
                for i in range(0, len(writes), MAX_TRANSACT_ITEMS):
                    chunk, started = writes[i : i + MAX_TRANSACT_ITEMS], time.perf_counter()
                    with self.telemetry.span("store.write", game_id=game.id, writes=len(chunk)):
                        await self.store.transact_write(chunk)
                    self.telemetry.observe(STORE_WRITE_LATENCY, time.perf_counter() - started)
                if showable is not None and not showable.done():
                    showable.set_result(None)
        except StoreError as e:
            log.exception("could not save game %s; reloading it from the store", game.id)
            if showable is not None and not showable.done():
                showable.set_exception(e)
            self.evict(game.id)
            raise

    def _forget_last(self, game_id: str, task: asyncio.Future[None]) -> None:
        if self._last_write.get(game_id) is task:
            del self._last_write[game_id]

    def _settled(self, task: asyncio.Future[None]) -> None:
        """Forget a finished write; its failure was logged and is reported to whoever awaits it."""
        self._in_flight.discard(task)
        if not task.cancelled():
            task.exception()

    def synced(self, game_id: str, at: int) -> Game | None:
        """The sync verified this game's cloud copy and bumped its META version: mirror that here."""
        game = self._games.get(game_id)
        if game is not None:
            lifecycle.mirror_synced(game, at)
        return game

    def evict(self, game_id: str) -> None:
        """Forget a game whose memory and store may disagree; the next access reloads the store's."""
        game = self._games.pop(game_id, None)
        if game is not None:
            if self._codes.get(game.code) == game_id:
                del self._codes[game.code]
            self.on_evict(game_id)

    def _ttl(self, game: Game) -> int:
        return lifecycle.expiry(game.created_at, self.retention_days)

    async def close(self) -> None:
        """Wait for queued writes; the store is closed by its owner (a pending keep waits for a restart)."""
        for handle in self._keeping.values():
            handle.cancel()
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
