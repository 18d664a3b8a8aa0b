"""Commands in the cloud: load what a command needs, apply the core's one door, commit with conditions.

A Lambda invocation keeps no game in memory, so each command reads the game from the table. What it
reads depends on the command (docs/cloud.md has the table):

- a type's partial commands (an answer) read META, the sender's PLAYER item and the entry the
  command would write; a join reads META and its index items (cloud.admission); a seat's first
  use (the phone's first hello) reads META and that PLAYER item: a few items, however many players
  the game has;
- everything else (a vote, the host's commands, a deadline, settling a phase) reads the whole
  partition in one query, once per command.

The writes commit in one transaction with the guards of cloud.guards; when a guard fails another
invocation got there first, so the command is applied again from a fresh load (a stale command is
then refused as `stale`, as the appliance would). seq comes from META and is saved in the same
version-guarded update, so broadcasts have no gaps and no duplicates.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cloud import admission, announcements, batches, phones, results, tallies
from cloud.deadlines import Deadlines
from cloud.guards import Before, guarded
from engagements import items, lifecycle, ranking, resultpages, seats, views
from engagements.codes import is_code, new_id, normalize_code, split_token
from engagements.commands import Applied, apply
from engagements.creation import Created, new_game
from engagements.model import LANE, PLAYING, SYSTEM, Actor, Command, Game, Rejected
from engagements.store.base import (
    GSI1,
    MAX_TRANSACT_ITEMS,
    PK,
    SK,
    TTL,
    Item,
    Put,
    Store,
    StoreError,
    TransactionCanceled,
    Update,
    Write,
    absent,
)
from engagements.telemetry.metrics import GAMES_CREATED, GAMES_FINISHED, STORE_WRITE_LATENCY, Telemetry
from engagements.types import EngagementType, kind_of, lane_command, lane_in
from engagements.views import Messages

log = logging.getLogger(__name__)

ATTEMPTS = 10  # loads and commits of one command before it is refused as `internal`
BACKOFF = 0.01  # seconds, at most, before the first retry; doubled each time
SCORE_WRITERS = 16  # score updates in flight at once after a round is scored
LOADED = ("PROMPT#", "PLAYER#", "ENTRY#")  # with META, what items.load_game rebuilds a game from


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class SeatClaimed(Exception):
    """Another copy of this join (same client id) claimed its seat first: look the seat up."""


@dataclass
class Done:
    """A command the table accepted: its ack and what its events tell the views."""

    game: Game
    ack: dict[str, Any]
    messages: Messages = field(default_factory=Messages)
    deadline: int | None = None  # a phase opened with this deadline: start its timer
    settle: bool = False  # a partial command may have completed the phase: settle the whole game
    progress: dict[str, Any] | None = None  # the round's counts after a partial command
    entered: int = 0  # with `progress`: the round's entries, and the players who can enter them
    players: int = 0
    ranked: bool = False  # the entries of a type with `rankings` moved: the views' heads may have
    marked: int | None = None  # the deadline of the phase it closed, marked unannounced on META
    # With `announce`, the writes left for after the posts (CloudGames._derive); done already without.
    derived: Callable[[], Awaitable[None]] = field(default_factory=lambda: _nothing)


class CloudGames:
    def __init__(
        self,
        store: Store,
        types: dict[str, EngagementType],
        *,
        retention_days: int = 7,
        clock: Callable[[], int] = now_ms,
        telemetry: Telemetry | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
        self.store = store
        self.types = types
        self.deadlines = deadlines  # queues the check of a change from an untimed phase (cloud.announcements)
        self.boards = tallies.Boards(store)
        self.retention_days = retention_days
        self.clock = clock
        # Awaited after the commit that finished a game (its webhooks: cloud.webhooks); never raises.
        self.on_finished: Callable[[Game], Awaitable[None]] | None = None
        self.telemetry = telemetry or Telemetry()

    def ttl(self, game: Game) -> int:
        return lifecycle.expiry(game.created_at, self.retention_days)

    # -- reading ---------------------------------------------------------------------------------

    def round_kind(self, meta: Item) -> EngagementType:
        """The type that plays the current round, from META alone: a mixed game's META names each
        round's type (items.ROUND_TYPES), a single-type game's rounds are all of its `type`."""
        round_types, r = meta.get(items.ROUND_TYPES, []), meta["round"]
        return self.types[round_types[r] if 0 <= r < len(round_types) else meta["type"]]

    async def meta(self, game_id: str) -> Item | None:
        return await self.store.get(items.game_pk(game_id), items.META)

    async def load(self, game_id: str) -> tuple[Game, Item] | None:
        """The whole game, with the players whose sockets are open: META and the three kinds of item
        a game is rebuilt from. Not the whole partition: its sockets', nicknames' and admission's
        items (about as many again as the players and entries at 1,000 players) are not needed here.
        META first, then the rest at once: a command's guard on META's version and counters fails
        whatever committed after META was read (cloud.guards), so no entry META counted is missed."""
        pk = items.game_pk(game_id)
        meta = await self.meta(game_id)
        if meta is None:
            return None
        parts = await asyncio.gather(*(self.store.query_all(pk, prefix) for prefix in LOADED))
        found = [meta, *(i for part in parts for i in part)]
        game = items.load_game(found, self.types)
        game.connected = {  # counted by cloud.connections, as META's CONNECTED
            i["player_id"] for i in found if i[SK].startswith("PLAYER#") and i.get(items.SOCKETS, 0) > 0
        }
        return game, meta

    async def load_partial(
        self,
        game_id: str,
        player: str | None,
        command: tuple[str, dict[str, Any]] | None,
        meta: Item | None = None,
        also: list[tuple[str, str]] | None = None,
        lane: EngagementType | None = None,
    ) -> tuple[Game, Item] | None:
        """META (unless just read), then the sender's PLAYER item, the entries the `command` (its
        type and fields) reads (`partial_entries`: by default the one it would write; a retry finds
        its first ack there, a second answer `already_answered`) and, in a phase of the type's
        `partial_phases`, their partial state; the round's prompt if the type's `partial_prompt`
        says it needs it; and the index items `also` (a join's, cloud.admission). None when that
        state is missing or was written for another version of META: the caller loads the whole
        game instead. The partial game's player counts are META's counters, since it holds no other
        player. With `lane`, the command is that type's in the game's lane (round LANE)."""
        meta = meta or await self.meta(game_id)
        if meta is None:
            return None
        kind = lane or self.round_kind(meta)
        r = LANE if lane is not None else meta["round"]
        pk = items.game_pk(game_id)
        keys = list(also or [])
        in_phase = lane is None and meta["phase"] in kind.partial_phases
        stateful = command is not None and player is not None and in_phase
        if player is not None:
            keys.append((pk, f"PLAYER#{player}"))
            if command is not None and r >= 0:
                bare = items.load_game([meta], self.types)  # what the entries' keys derive from
                read = kind.partial_entries(bare, *command, player)
                keys += [(pk, items.entry_sk(r, k, key)) for k, key in read]
            if stateful:
                keys.append(items.partial_key(game_id, meta["round"], player))
            if command is not None and kind.partial_prompt and lane is None and meta["round"] >= 0:
                keys.append((pk, items.prompt_sk(meta["round"])))
        found = [i for i in await asyncio.gather(*(self.store.get(*key) for key in keys)) if i is not None]
        state = next((i for i in found if i[PK] != pk), None)
        if stateful and (state is None or state["version"] != meta["version"]):
            return None
        game = items.load_game([meta, *(i for i in found if i is not state)], self.types)
        admission.restore(game, found)
        game.active, game.seated = meta.get(items.ACTIVE, 0), meta.get(items.SEATED, 0)
        if state is not None and player is not None:
            kind.restore_partial(game, player, state["state"])
        return game, meta

    async def room(self, game_id: str) -> dict[str, Any] | None:
        """The room as the board views see it (views.room): META's counters and the latest seats
        (cloud.phones keeps them in join order), one read and one short query, whatever the room."""
        meta = await self.meta(game_id)
        if meta is None:
            return None
        latest = await self.store.query(
            items.partial_pk(game_id), phones.SEAT, limit=views.RECENT_NAMES, reverse=True
        )
        recent = [i["nickname"] for i in latest.items]
        return views.board_room(meta.get(items.ACTIVE, 0), meta.get(items.CONNECTED, 0), recent)

    async def find_code(self, raw: Any) -> str | None:
        code = normalize_code(raw) if isinstance(raw, str) else ""
        if not is_code(code):
            return None
        item = await self.store.get(items.code_pk(code), "CODE")
        return None if item is None else item["game_id"]

    # -- creating and joining --------------------------------------------------------------------

    async def create(
        self, title: Any, prompts: Any, type_slug: Any = None, settings: dict[str, Any] | None = None
    ) -> Created:
        for _ in range(5):  # a join code already in use: draw again
            created = new_game(self.types, title, prompts, type_slug, settings, now=self.clock())
            try:
                ttl = self.ttl(created.game)
                await self.store.transact_write(items.creation_writes(created.game, ttl))
            except TransactionCanceled:
                continue
            # Apart: the creation's transaction is full with the most prompts. Nobody holds the
            # game's tokens before this returns, so no META change can come first.
            await self.store.put(phones.view_item(created.game, self.types, ttl), absent())
            self.telemetry.count(GAMES_CREATED)
            created.saved()
            return created
        raise StoreError("could not find a free join code")

    async def join(
        self,
        game_id: str,
        nickname: Any,
        previous_token: Any = None,
        *,
        client_id: Any = None,
        device_id: Any = None,
        address: str = "",
    ) -> tuple[Game, str, str]:
        """A seat, read and written in a few items: (the game as loaded, player id, token).

        As on the appliance (engagements.seats): a retry with the join's client id gets the same
        seat and token back, a kicked device or address is refused, and the engine applies the
        player cap and the late-join setting (from META and its counters).
        """
        if isinstance(previous_token, str) and (parts := split_token(previous_token)):
            old = await self.store.get(items.game_pk(game_id), f"PLAYER#{parts[0]}")
            if old is not None and old["kicked"]:
                # The token is not checked: anyone may learn that a kicked player was kicked.
                raise Rejected("kicked", "The host removed you from this game.")
        meta = await self.meta(game_id)
        if meta is None:
            raise Rejected("not_found", "No game has that code.")
        bare = items.load_game([meta], self.types)  # the game's secret keys the hashes
        who = seats.identity(bare, client_id, device_id, address)
        for _ in range(2):  # a retry racing its first copy finds the seat the first copy claimed
            retried = await self._retried(game_id, who)
            if retried is not None:
                return retried
            player_id = new_id("p", 10)
            token, token_hash = seats.new_token(bare, player_id, who)
            fields = {"player_id": player_id, "nickname": nickname, "token_hash": token_hash, **who.fields()}
            try:
                done = await self.execute(game_id, SYSTEM, "join", fields, also=admission.keys(game_id, who))
            except SeatClaimed:
                continue
            except TransactionCanceled:
                raise Rejected("nickname_taken", f"Someone here is already called {nickname}.") from None
            return done.game, player_id, token
        raise StoreError(f"game {game_id}: a join kept conflicting")

    async def _retried(self, game_id: str, who: seats.Identity) -> tuple[Game, str, str] | None:
        """The seat a join with this client id took already, with its token (seats.retry_token)."""
        if not who.client:
            return None
        claim = await self.store.get(items.game_pk(game_id), admission.CLIENT + who.client)
        if claim is None:
            return None
        loaded = await self.load_partial(game_id, claim["player_id"], None, also=admission.keys(game_id, who))
        if loaded is None or claim["player_id"] not in loaded[0].players:
            return None
        game = loaded[0]
        return game, claim["player_id"], seats.retry_token(game, claim["player_id"], who)

    # -- commands --------------------------------------------------------------------------------

    async def execute(
        self,
        game_id: str,
        actor: Actor,
        type_: str,
        fields: dict[str, Any],
        cmd_id: str = "",
        at: int | None = None,
        also: list[tuple[str, str]] | None = None,
        announce: bool = False,
    ) -> Done:
        """Apply one command; raises Rejected, or StoreError when the table keeps refusing it.

        `also`: index items a join reads (cloud.admission). A join whose nickname is taken raises
        TransactionCanceled; one whose client id another copy of it claimed first, SeatClaimed.
        `announce`: a change this broadcasts (a deadline's tick, a phase settled early, the host's
        command) is marked on META until its caller has announced it (cloud.announcements;
        `Done.marked`): by the deadline of the phase it was decided in, whose tick announces it if
        its caller could not; a phase change from a phase without one, by a tick queued for it.
        """
        at = self.clock() if at is None else at
        meta = await self.meta(game_id)
        if meta is None:
            raise Rejected("unauthorized", "There is no such game.")
        lane = lane_command(meta["settings"], self.types, type_, fields)
        kind = lane or self.round_kind(meta)
        partial = type_ in ("join", "presence") or (actor.role == "player" and type_ in kind.partial_commands)
        player = fields.get("player") if type_ == "presence" else actor.player
        fresh: Item | None = meta  # the first attempt uses the META just read
        check: int | None = None  # a phase change from an untimed phase: when its announcement is checked
        for attempt in range(1, ATTEMPTS + 1):
            loaded = None
            if partial:
                command = (type_, fields) if type_ in kind.partial_commands else None
                loaded = await self.load_partial(game_id, player, command, fresh, also, lane)
                fresh = None
            whole = loaded is None
            if whole:
                loaded = await self.load(game_id)
            if loaded is None:
                raise Rejected("unauthorized", "There is no such game.")
            game, meta = loaded
            # the type of the round the command is decided in (or of the lane, beside it)
            played = lane or kind_of(game, self.types)
            before = Before.of(game, meta, played)
            cmd = Command(type_, actor, fields, at, cmd_id)
            applied = apply(game, self.types, cmd, self.ttl(game), settle_phases=whole)
            ttl = self.ttl(game)
            writes = guarded(game, applied, before, played) + admission.writes(game, applied, ttl)
            writes += tallies.writes(game, applied, self.types, ttl)
            writes = phones.writes(game, self.types, applied, meta, writes, ttl)
            marked = None
            if announce and applied.messages.broadcast:
                marked = meta.get("deadline")  # of the phase the command is decided in, if it has one
                if marked is None and any(e.kind == "phase_changed" for e in applied.events):
                    check = check or await self._check_announced(game_id)
                    marked = check
            if marked is not None:
                writes = announcements.marked(writes, game, applied, marked)
            scored = resultpages.changed(game, applied.events)  # their pages: kept below
            writes = results.marked(writes, game, scored)
            ranks = phones.rank_writes(game, applied, meta)
            try:
                await self._commit(writes)
            except TransactionCanceled as canceled:
                failed = _failed(canceled, writes)
                if any(admission.is_client_claim(w) for w in failed):
                    raise SeatClaimed from None
                if type_ == "join" and any(_is_nickname(w) for w in failed):
                    raise
                await asyncio.sleep(random.uniform(0, BACKOFF * 2 ** (attempt - 1)))
                continue
            if attempt > 1:
                log.info("game %s: %s applied at attempt %d", game_id, type_, attempt)
            if applied.finishes and self.on_finished is not None:
                await self.on_finished(game)
            if applied.finishes:
                self.telemetry.count(GAMES_FINISHED)
            done = Done(game, applied.ack, applied.messages, marked=marked)
            opened = [e for e in applied.events if e.kind == "phase_changed" and e.data.get("deadline")]
            done.deadline = opened[-1].data["deadline"] if opened else None
            now = kind_of(game, self.types)  # the command may have opened a round of another type
            kept = whole and game.phase in now.partial_phases | now.you_phases and _changes_meta(applied)
            # Votes need their ballots (`partial_phases`) as soon as the phones see the phase: those
            # are written before. The scores and what only a phone's snapshot reads can follow the
            # posts (`announce`: the caller runs `derived` after them); a snapshot that finds them
            # missing or old loads the whole game meanwhile.
            if kept and game.phase in now.partial_phases:  # the others' in `derived`, once
                await self._keep_partial_state(game, now)
            if scored:  # the host's console asks for a page of them as soon as it shows them
                await results.keep(self.store, game, self.types, scored, meta, self.ttl(game))
            scores = applied.scores if ranks is None else ranks
            done.derived = functools.partial(self._derive, game, scores, kept, now)
            if not announce:
                await done.derived()
            boards = await self.boards.rank(game, applied, self.types, self.ttl(game))
            # a lane's counts are its `lane` update's (ranked, below)
            in_round = lane is None and game.status == PLAYING
            if not whole and lane is None and type_ in kind.partial_commands and applied.atomic:
                await self._counted(game_id, done, boards)
            elif in_round and actor.role == "host" and type_ in played.host_commands:
                # A type's host command changes the round's counts (a word hidden): the board views
                # see them at once, counted from the whole game just loaded (a ranked round's every
                # view: `ranked`, below).
                done.progress = None if played.rankings else views.progress(game, self.types)
            done.ranked = bool(played.rankings) and any(e.kind.startswith("entry_") for e in applied.events)
            return done
        raise StoreError(f"game {game_id}: {type_} kept conflicting")

    async def _check_announced(self, game_id: str) -> int | None:
        """Queue the tick that checks, a grace period from now, that a phase change about to commit is
        announced (cloud.announcements): its time, the mark's. Queued before the commit, so that no
        moment after it lacks one; a commit that fails leaves a tick that finds no mark. None without
        a deadline queue."""
        if self.deadlines is None:
            return None
        now = self.clock()
        due = now + announcements.GRACE
        await asyncio.to_thread(self.deadlines.schedule, game_id, due, now)
        return due

    async def _commit(self, writes: list[Write]) -> None:
        # A kick in a crowded vote can remove more entries than one transaction holds; the guard is
        # in the first, so the rest only follows a command the table accepted.
        for i in range(0, len(writes), MAX_TRANSACT_ITEMS):
            chunk = writes[i : i + MAX_TRANSACT_ITEMS]
            started = time.perf_counter()
            try:
                await self.store.transact_write(chunk)
            finally:  # a write refused on its conditions took as long to answer
                self.telemetry.observe(STORE_WRITE_LATENCY, time.perf_counter() - started)

    async def _derive(self, game: Game, scores: list[Write], kept: bool, kind: EngagementType) -> None:
        """After a commit, what it left to write that no command's decision needs: the scores, and
        the players' partial state of a phase whose commands do not read it (`kept`)."""
        if kept and game.phase not in kind.partial_phases:
            await self._keep_partial_state(game, kind)
        await self._scores(scores)

    async def _scores(self, scores: list[Write]) -> None:
        # Scores are derived data (recomputed on every load): plain updates, several at a time.
        limit = asyncio.Semaphore(SCORE_WRITERS)

        async def write(update: Any) -> None:
            async with limit:
                await self.store.update(update.pk, update.sk, set=update.set)

        await asyncio.gather(*(write(u) for u in scores if isinstance(u, Update)))

    async def _keep_partial_state(self, game: Game, kind: EngagementType) -> None:
        """Write every player's partial state for this META version (after the commit that made it:
        a partial command that finds none, or one of another version, loads the whole game)."""
        ttl = self.ttl(game)
        puts = [
            dict(zip((PK, SK), items.partial_key(game.id, game.round, player), strict=True))
            | {"round": game.round, "version": game.version, "state": state, TTL: ttl}
            for player, state in kind.partial_state(game).items()
        ]
        try:
            await batches.write_all(self.store, puts)
        except StoreError:  # the command is saved; votes without their ballot load the whole game
            log.exception("game %s: the ballots of version %d were not all kept", game.id, game.version)

    async def _counted(self, game_id: str, done: Done, boards: dict[int, dict[str, int]]) -> None:
        """After a partial command, META's counters (read once more) say whether the phase may be
        complete (then `settle` it from the whole game) and give the board views their counts, with
        the highest of the type's `ranked` tallies (`boards`, as the command left them)."""
        meta = await self.meta(game_id)
        if meta is None or meta["round"] < 0:
            return
        kind = self.round_kind(meta)
        entered = items.round_counts(meta, kind.commands)
        if kind.ranked_shown:
            board = boards.get(meta["round"])
            entered |= board if board is not None else await self.boards.board(game_id, meta["round"])
        players = meta.get(items.SEATED, 0)  # only used seats are waited for
        done.settle = kind.may_be_complete(meta["phase"], entered, players)
        progress = kind.progress_of(meta["round"], meta["phase"], entered, players)
        done.progress = None if progress is None else {"type": "progress", **progress}
        kinds = [k for c in kind.commands for k in kind.entry_kinds(c, meta["settings"])]
        done.entered, done.players = sum(entered.get(k, 0) for k in kinds), players

    async def ranked_progress(self, game_id: str) -> dict[str, Any] | None:
        """The `progress` of a round whose type ranks its entries (a Q&A's questions): META's
        counters and the heads of its lists (`heads`), however long the lists are. None when the
        game is not in such a round."""
        meta = await self.meta(game_id)
        if meta is None or meta["status"] != PLAYING or meta["round"] < 0:
            return None
        kind = self.round_kind(meta)
        if not kind.rankings:
            return None
        progress = await self._ranked(game_id, meta, kind, meta["round"])
        return {"type": "progress", **kind.ranked_progress(meta["round"], meta["phase"], *progress)}

    async def lane_progress(self, game_id: str) -> dict[str, Any] | None:
        """The `lane` update of a game with a type running alongside the rounds (views.lane_progress),
        read as `ranked_progress` reads a round's; None without one."""
        meta = await self.meta(game_id)
        lane = None if meta is None else lane_in(meta["settings"], self.types)
        if meta is None or lane is None:
            return None
        counts, seated, heads = await self._ranked(game_id, meta, lane, LANE)
        phase = lane.lane_phase(meta["status"])
        return {"type": "lane", "phase": phase, **lane.ranked_progress(LANE, phase, counts, seated, heads)}

    async def _ranked(
        self, game_id: str, meta: Item, kind: EngagementType, r: int
    ) -> tuple[dict[str, int], int, dict[str, ranking.Head]]:
        """What `ranked_progress` takes for round `r`: META's counters of it, the seated players and
        the heads of its lists."""
        heads = await self.heads(game_id, r, kind)
        return items.round_counts({**meta, "round": r}, kind.commands), meta.get(items.SEATED, 0), heads

    async def heads(self, game_id: str, round: int, kind: EngagementType) -> dict[str, ranking.Head]:
        """The heads of `kind.rankings` in `round`: each end one query of the index, at most its
        head's items, however long the lists are."""

        async def read(name: str, count: int, reverse: bool) -> list[ranking.Ranked]:
            if not count:
                return []
            page = await self.store.query(
                items.rank_pk(game_id, round, name), index=GSI1, limit=count, reverse=reverse
            )
            return [(items.entry_of(i), i.get("count", 0)) for i in page.items]

        names = list(kind.rankings)
        ends = await asyncio.gather(
            *(read(n, kind.rankings[n][end], end == 1) for n in names for end in (0, 1))
        )
        return {n: ranking.Head(ends[2 * i], ends[2 * i + 1]) for i, n in enumerate(names)}


async def _nothing() -> None:
    return None


def _changes_meta(applied: Applied) -> bool:
    return any(isinstance(w, Update) and w.sk == items.META for w in applied.atomic)


def _failed(canceled: TransactionCanceled, writes: list[Write]) -> list[Write]:
    """The writes whose conditions failed, from the reasons as DynamoDB lists them."""
    return [write for write, reason in zip(writes, canceled.reasons, strict=False) if reason]


def _is_nickname(write: Write) -> bool:
    """The NICK claim of a join: its failure means the nickname is taken (the guard's is retried)."""
    return isinstance(write, Put) and write.item[SK].startswith("NICK#")
