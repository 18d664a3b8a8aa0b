"""A phone's hello and sync in a few reads, whatever the room (engagements.snapshots says how).

Loading the whole game for every phone's snapshot would make a room of N phones connecting read
about 3N²/2 items. So the cloud keeps, beside the game, what a phone's snapshot needs from the whole
game, each part written by the command that changes it:

    PK               SK                                what
    PARTIAL#<game>   VIEW                              snapshots.shared, and `version`: META's, written
                                                       in the transaction of every META change
    PARTIAL#<game>   SEAT#<joined at, ms>#<player id>  `player_id`, `nickname`: the players not kicked in
                                                       the order they joined (written with the join,
                                                       deleted with the kick)
    GAME#<game>      META                              `standings`, `kicked_scores`: snapshots.Standings
    GAME#<game>      PLAYER#<player id>                `score`, `rank` and `standings` (the version they
                                                       were written for): every player's, after each
                                                       command that gives points; a join's `standings`

and the round's type keeps each player's state in `you_phases` as PARTIAL items (cloud.games). A
phone's snapshot then reads META, its PLAYER item, the VIEW item, the entries of the round its type
names (`you_entries`: one per kind for most; a word cloud's word slots; a Q&A's question slots and
its votes for the 25 listed questions), the counters of the tallies it names (`you_tallies`: a word
cloud's words, in the results), its state in this phase, for a type that ranks its entries the heads
of its lists (cloud.games `heads`: at most 26 items) and, while fewer than ten players have scored,
the first ten seats: a number of items its type bounds, whatever the room. When one of them is
missing or of another version (a game created before these items, a command whose later writes are
not done yet, a player who joined during a vote, a type that cannot render its part so), the caller
loads the whole game instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cloud import tallies
from engagements import auth, items, snapshots
from engagements.codes import split_token
from engagements.commands import Applied
from engagements.model import Game, Player, Rejected
from engagements.store.base import PK, SK, TTL, Delete, Item, Put, Update, Write
from engagements.types import Types
from engagements.views import LEADERBOARD_SIZE

if TYPE_CHECKING:
    from cloud.games import CloudGames

VIEW = "VIEW"
SEAT = "SEAT#"
STANDINGS = "standings"  # on META, and on a PLAYER item: the version its `score` and `rank` are of
KICKED = "kicked_scores"
RANK = "rank"


def seat_sk(p: Player) -> str:
    """Sorted as views.leaderboard breaks a tie of points: by when they joined, then by id."""
    return f"{SEAT}{p.joined_at:015d}#{p.id}"


def seat_item(game_id: str, p: Player, ttl: int) -> Item:
    return {
        PK: items.partial_pk(game_id),
        SK: seat_sk(p),
        "player_id": p.id,
        "nickname": p.nickname,
        TTL: ttl,
    }


def view_item(game: Game, types: Types, ttl: int) -> Item:
    return {
        PK: items.partial_pk(game.id),
        SK: VIEW,
        "version": game.version,
        **snapshots.shared(game, types),
        TTL: ttl,
    }


def standings_of(meta: Item) -> snapshots.Standings:
    return snapshots.Standings(meta.get(STANDINGS), tuple(meta.get(KICKED, ())))


def writes(
    game: Game, types: Types, applied: Applied, meta: Item, guarded: list[Write], ttl: int
) -> list[Write]:
    """A command's guarded writes with what keeps the phones' snapshots cheap: after a META change
    (which only a whole game makes) the VIEW item, in the same transaction, and the standings on
    META; a join's seat (its PLAYER item names the standings it joined under); a kick's seat gone."""
    before = standings_of(meta)
    out: list[Write] = []
    for write in guarded:
        if isinstance(write, Update) and write.sk == items.META and "version" in write.set:
            after = before.after(game, applied.events)
            if after != before:
                marks = {STANDINGS: after.version, KICKED: list(after.kicked)}
                write = Update(
                    write.pk, write.sk, set={**write.set, **marks}, add=write.add, condition=write.condition
                )
            out += [write, Put(view_item(game, types, ttl))]
        elif isinstance(write, Put) and write.item[SK].startswith("PLAYER#"):
            out.append(Put({**write.item, STANDINGS: before.version}, write.condition))
        else:
            out.append(write)
    for event in applied.events:
        if event.kind == "player_joined":
            out.append(Put(seat_item(game.id, game.players[event.data["id"]], ttl)))
        elif event.kind == "player_kicked":
            out.append(Delete(items.partial_pk(game.id), seat_sk(game.players[event.data["player"]])))
    return out


def rank_writes(game: Game, applied: Applied, meta: Item) -> list[Write] | None:
    """Every player's score and rank, when the command gave points (they replace the core's score
    updates, which only the players who scored get); None when it gave none."""
    before = standings_of(meta)
    after = before.after(game, applied.events)
    if after.version == before.version:
        return None
    pk = items.game_pk(game.id)
    return [
        Update(pk, f"PLAYER#{pid}", set={"score": score, RANK: rank, STANDINGS: after.version})
        for pid, (score, rank) in snapshots.ranks(game).items()
    ]


class Phones:
    """Reads a phone's snapshot from the items above."""

    def __init__(self, games: CloudGames) -> None:
        self.games = games

    async def seat(self, game_id: str, token: Any) -> tuple[Game, Item, Item]:
        """META and the PLAYER item `token` opens, checked as the appliance checks a phone's hello
        (auth.authenticate); raises Rejected."""
        parts = split_token(token) if isinstance(token, str) else None
        pk = items.game_pk(game_id)
        store = self.games.store
        meta, player = await asyncio.gather(
            store.get(pk, items.META), store.get(pk, f"PLAYER#{parts[0]}") if parts else _none()
        )
        if meta is None:
            raise Rejected("unauthorized", "There is no such game.")
        game = items.load_game([meta, *([player] if player else [])], self.games.types)
        auth.authenticate(game, token, "player")
        assert player is not None  # authenticate found the player
        return game, meta, player

    async def snapshot(
        self,
        game_id: str,
        player: str,
        join_url: Callable[[str], str],
        meta: Item | None = None,
        item: Item | None = None,
    ) -> dict[str, Any] | None:
        """views.snapshot for `player`'s phone from a few items (META and the PLAYER item unless
        given; `join_url` of the game's code); None when they do not suffice (see above)."""
        store = self.games.store
        pk = items.game_pk(game_id)
        meta, item = await asyncio.gather(
            _given(meta) if meta else store.get(pk, items.META),
            _given(item) if item else store.get(pk, f"PLAYER#{player}"),
        )
        if meta is None or item is None or item["kicked"]:
            return None
        kind = self.games.round_kind(meta)
        r, phase = meta["round"], meta["phase"]
        playing = r >= 0 and phase in kind.phases
        heads = await self.games.heads(game_id, r, kind) if playing and kind.rankings else {}
        shown = [e.player for head in heads.values() for e, _ in (*head.top, *head.bottom)]
        named = kind.you_entries(items.load_game([meta], self.games.types), player, shown) if playing else {}
        state_key = [items.partial_key(game_id, r, player)] if playing and phase in kind.you_phases else []
        view, *found = await asyncio.gather(
            store.get(items.partial_pk(game_id), VIEW),
            *(store.get(pk, items.entry_sk(r, k, key)) for k, key in named.values()),
            *(store.get(*key) for key in state_key),
        )
        state = found.pop() if state_key else None
        if view is None or view["version"] != meta["version"] or item.get(STANDINGS) != meta.get(STANDINGS):
            return None
        if state is not None and state["version"] != meta["version"]:
            state = None  # of another phase, or not yet written for this one: the type says if it needs it
        own = {name: i for name, i in zip(named, found, strict=True) if i is not None}
        entries = {name: items.entry_of(i) for name, i in own.items()}
        counts = {name: i["count"] for name, i in own.items() if "count" in i}
        tallied = kind.you_tallies(phase, entries) if playing else ()
        for name, found_tally in zip(tallied, await self._tallies(game_id, r, tallied), strict=True):
            counts[name] = found_tally
        first: list[tuple[str, str]] = []
        if len(view["top"]) < LEADERBOARD_SIZE:
            page = await store.query(items.partial_pk(game_id), SEAT, limit=LEADERBOARD_SIZE)
            first = [(i["player_id"], i["nickname"]) for i in page.items]
        game = items.load_game([meta, item], self.games.types)
        game.active, game.seated = meta.get(items.ACTIVE, 0), meta.get(items.SEATED, 0)
        mine = snapshots.Own(
            player,
            item["score"],
            item.get(RANK),
            entries,
            state["state"] if state is not None else None,
            counts,
        )
        round_counts = items.round_counts(meta, kind.commands)
        url = join_url(meta["code"])
        return snapshots.phone_snapshot(
            game, self.games.types, view, round_counts, mine, standings_of(meta), first, url, heads
        )

    async def _tallies(self, game_id: str, round: int, names: tuple[str, ...]) -> list[int]:
        """The counts of a round's `ranked` tallies (cloud.tallies), each read by key."""
        pk = tallies.partition(game_id)
        found = await asyncio.gather(*(self.games.store.get(pk, tallies.counter_sk(round, n)) for n in names))
        return [i["n"] if i else 0 for i in found]


async def _none() -> None:
    return None


async def _given(item: Item) -> Item:
    return item
