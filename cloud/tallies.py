"""Tallies too many for META: one counter item per name, and each round's board of the highest.

A type's `ranked` tallies (a word cloud's count of each word) are as many as the different words
sent, which grows with the room: on META they would swell the item every command reads, and could
pass DynamoDB's 400 KB. So the cloud keeps them apart, in a partition of the game's own,
`TALLY#<game id>` (the game's whole loads and the cloud sync never read it, as with PARTIAL#):

- `<nnn>#<name>`: `n`, the count, ADDed in the transaction of the entry it counts, so it is exact
  whenever the entry is durable; `ttl`;
- `<nnn>`: the round's board: `t#<name>` for the highest counts (at least the type's
  `ranked_shown` names, at most half as many again), `floor` (every name off the board has a count
  at or below it), `v` (bumped by every write of the board), `ttl`.

After its transaction commits, a command reads each counter it added to (strongly consistent: its
own increment and any since) and the board; when the count beats the board's `floor` and the name's
count there, it sets the name on condition that neither moved past it (`below`). Counts only grow,
so the highest write wins whatever order concurrent commands land in. A board grown past its size
drops its lowest names and raises `floor` to the highest count it dropped, on condition of `v`.

A command cut off between its commit and the board leaves the board one behind for that name until
the name's next entry: only the live `progress` reads the board; phase changes, snapshots and the
results count from the whole game. Per entry: one counter ADD inside the entry's transaction, two
reads (the counter, the board) and, while the name is among the highest, one conditional write.
"""

from __future__ import annotations

from collections import Counter

from engagements.commands import Applied
from engagements.model import Game
from engagements.store.base import TTL, ConditionFailed, Item, Store, Update, Write, below, equals
from engagements.types import Types, kind_of

NAME = "t#"  # prefix of a name's count on a board
COMPACTIONS = 3  # attempts at trimming a board that other commands keep writing


def partition(game_id: str) -> str:
    return f"TALLY#{game_id}"


def counter_sk(round: int, name: str) -> str:
    return f"{round:03d}#{name}"


def board_sk(round: int) -> str:
    return f"{round:03d}"


def counted(game: Game, applied: Applied, types: Types) -> Counter[tuple[int, str]]:
    """The ranked tallies the command's new entries add to, by (round, name)."""
    added: Counter[tuple[int, str]] = Counter()
    for event in applied.events:
        if event.kind == "entry_added":
            entry = event.data["entry"]
            for name in kind_of(game, types, entry.round).ranked(entry):
                added[(entry.round, name)] += 1
    return added


def writes(game: Game, applied: Applied, types: Types, ttl: int) -> list[Write]:
    """The counters' ADDs, for the transaction of the entries they count."""
    pk = partition(game.id)
    return [
        Update(pk, counter_sk(round, name), set={TTL: ttl}, add={"n": n})
        for (round, name), n in sorted(counted(game, applied, types).items())
    ]


def names(board: Item) -> dict[str, int]:
    """A board's names and their counts."""
    return {k[len(NAME) :]: v for k, v in board.items() if k.startswith(NAME)}


class Boards:
    """The rounds' boards of one table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def rank(self, game: Game, applied: Applied, types: Types, ttl: int) -> dict[int, dict[str, int]]:
        """Place the names the command's entries counted on their rounds' boards; the boards as
        this command left them, by round (empty when it counted no ranked tally)."""
        placed: dict[int, dict[str, int]] = {}
        for round, name in counted(game, applied, types):
            keep = kind_of(game, types, round).ranked_shown
            placed[round] = names(await self._place(game.id, round, name, keep, ttl))
        return placed

    async def board(self, game_id: str, round: int) -> dict[str, int]:
        return names(await self.store.get(partition(game_id), board_sk(round)) or {})

    async def _place(self, game_id: str, round: int, name: str, keep: int, ttl: int) -> Item:
        pk, sk = partition(game_id), board_sk(round)
        found = await self.store.get(pk, counter_sk(round, name))
        board = await self.store.get(pk, sk) or {}
        count = found["n"] if found else 0
        attr = NAME + name
        if count <= board.get("floor", 0) or board.get(attr, 0) >= count:
            return board
        try:
            board = await self.store.update(
                pk, sk, set={attr: count, TTL: ttl}, add={"v": 1},
                condition=below(attr, count) + below("floor", count),
            )  # fmt: skip
        except ConditionFailed as moved:  # a higher count, or a higher floor, got there first
            return moved.item or board
        if len(names(board)) > keep + keep // 2:
            board = await self._compact(pk, sk, board, keep)
        return board

    async def _compact(self, pk: str, sk: str, board: Item, keep: int) -> Item:
        """Keep the `keep` highest names; `floor` becomes the highest count dropped."""
        for _ in range(COMPACTIONS):
            ranked = sorted(names(board).items(), key=lambda pair: (-pair[1], pair[0]))
            dropped = ranked[keep:]
            if not dropped:
                return board
            floor = max(board.get("floor", 0), max(n for _, n in dropped))
            try:
                return await self.store.update(
                    pk, sk, set={"floor": floor}, add={"v": 1},
                    remove=tuple(NAME + n for n, _ in dropped), condition=equals("v", board["v"]),
                )  # fmt: skip
            except ConditionFailed as moved:
                board = moved.item or await self.store.get(pk, sk) or {}
        return board  # the next write past the size trims it
