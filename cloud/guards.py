"""The conditions that make a command's writes safe when many Lambda invocations share one game.

The core's writes (commands.apply) already guard every META change by the version. The cloud adds
what its partial loads need, all on META and in the same transaction as the writes they protect:

- counters by atomic ADD: the entries of each round and kind (and the type's tallies of them, a
  poll's votes per option), the players not kicked and those of them whose phone has connected
  (items.entry_count, items.ACTIVE, items.SEATED), since a partial load sees none of them; a join
  holds only while ACTIVE is below the game's `max_players`;
- a seat is counted once: its PLAYER item's `seen` is set only while it is still unset and the
  player not kicked (two first hellos racing count one seat; a hello racing its kick, none);
- a command that changes META (a phase change, the lock) also holds only while the counters are
  as loaded: an answer committed after the load fails the phase change, which is applied again
  from a fresh load, so no acknowledged answer is left out of the vote;
- a command that writes without changing META (an answer, a join) holds only while the game's
  status, phase, round and lock are as loaded: an answer is accepted only while its phase is open.
  A player's command also holds only while no one was kicked or joined since its load: a kick
  that commits between an answer's load and its commit (the answer read the PLAYER item before
  the kick) fails the answer, which is then decided again and refused as `kicked`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from engagements import items
from engagements.commands import Applied
from engagements.engine import setting
from engagements.model import Game
from engagements.store.base import Cond, Condition, Item, Update, Write, below, equals
from engagements.types import EngagementType


@dataclass(frozen=True)
class Before:
    """What a command's guard compares with: META as it was loaded, before the command."""

    status: str
    phase: str
    round: int
    locked: bool
    counters: dict[str, int | None]  # the counters of the loaded round, ACTIVE, SEATED; None: absent

    @classmethod
    def of(cls, game: Game, meta: Item, kind: EngagementType) -> Before:
        names = [
            items.ACTIVE,
            items.SEATED,
            *(
                items.entry_count(game.round, k)
                for c in sorted(kind.commands)
                for k in kind.entry_kinds(c, game.settings)
            ),
        ]
        return cls(game.status, game.phase, game.round, game.locked, {n: meta.get(n) for n in names})

    def open(self, players: bool) -> Condition:
        """The game is still in the state the command was decided in (and with `players`, nobody
        joined or was kicked: not for joins themselves, which would then all conflict)."""
        state = (
            equals("status", self.status)
            + equals("phase", self.phase)
            + equals("round", self.round)
            + equals("locked", self.locked)
        )
        return state + self._as_loaded([items.ACTIVE]) if players else state

    def counted(self) -> Condition:
        """Nothing was entered, joined or kicked since the load."""
        return self._as_loaded(list(self.counters))

    def _as_loaded(self, names: list[str]) -> Condition:
        return tuple(
            Cond("absent", name) if self.counters[name] is None else Cond("equals", name, self.counters[name])
            for name in names
        )


def deltas(game: Game, applied: Applied, kind: EngagementType) -> dict[str, int]:
    """The counter changes a command's events make (`game` as the command left it)."""
    counts: Counter[str] = Counter()
    for event in applied.events:
        d = event.data
        match event.kind:
            case "entry_added":
                entry = d["entry"]
                for name in (entry.kind, *kind.tallies(entry)):
                    counts[items.entry_count(entry.round, name)] += 1
            case "entry_removed":
                counts[items.entry_count(d["round"], d["kind"])] -= 1
            case "player_joined":
                counts[items.ACTIVE] += 1
            case "player_seen":
                counts[items.SEATED] += 1
            case "player_kicked":
                counts[items.ACTIVE] -= 1
                counts[items.SEATED] -= game.players[d["player"]].seen
    return {name: n for name, n in counts.items() if n}


def guarded(game: Game, applied: Applied, before: Before, kind: EngagementType) -> list[Write]:
    """`applied.atomic` with the counters and conditions above, the one update of META first (a
    command of more than 100 writes commits in several transactions: the guarded one goes first)."""
    writes = [_seen_once(w) for w in applied.atomic]
    if not writes:
        return writes
    pk = items.game_pk(game.id)
    add = deltas(game, applied, kind)
    at = next((i for i, w in enumerate(writes) if isinstance(w, Update) and w.sk == items.META), None)
    if at is None:
        assert add, "every write that leaves META alone is counted: an entry, a join, a seat used"
        kinds = {e.kind for e in applied.events}
        condition = before.open(players=not kinds & {"player_joined", "player_seen"})
        if "player_joined" in kinds:
            condition += below(items.ACTIVE, setting(game, "max_players"))
        return [Update(pk, items.META, add=add, condition=condition), *writes]
    meta = writes.pop(at)
    assert isinstance(meta, Update)
    condition = meta.condition + before.counted()
    return [Update(pk, items.META, set=meta.set, add=add, condition=condition), *writes]


def _seen_once(write: Write) -> Write:
    """A seat's first use, on condition that it is still unused and not kicked (see above)."""
    if isinstance(write, Update) and write.sk.startswith("PLAYER#") and write.set.get("seen") is True:
        condition = write.condition + equals("seen", False) + equals("kicked", False)
        return Update(
            write.pk, write.sk, set=write.set, add=write.add, remove=write.remove, condition=condition
        )
    return write
