"""The game model: what a game is, independent of how it is played, stored or sent.

The engine mutates these objects in place (see engine.py for why); everything else reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOBBY = "lobby"
PLAYING = "playing"
FINISHED = "finished"

# The round of a type that runs alongside the others (EngagementType.alongside: a Q&A open all game
# long): its entries are keyed by it like any round's, beyond the last prompt (creation.MAX_PROMPTS),
# so the game's own rounds and phases never see them.
LANE = 999

# The audiences a broadcast is rendered for: the big screen and host console, and the phones.
BOARD = "board"
PHONES = "phones"


@dataclass
class Player:
    id: str
    nickname: str
    token_hash: str
    joined_at: int
    score: int = 0
    kicked: bool = False
    seen: bool = False  # has ever had a socket open: only then does the seat count as eligible
    client: str = ""  # the keyed hash of the join's client id: a retried join finds this seat again
    device: str = ""  # the keyed hash of the browser's device id: a kick bans it from the game
    address: str = ""  # the keyed hash of the address it joined from: a kick's fallback ban


@dataclass(frozen=True)
class Entry:
    """What one player submitted in one round (an answer, a vote, a choice): the type decides `value`.

    `at` is when the message arrived, so a deadline judges the player, not the server's backlog;
    `cmd` is the client's command id, kept so a retry after a restart is still recognised.
    """

    round: int
    kind: str
    player: str
    value: dict[str, Any]
    at: int
    cmd: str


@dataclass
class Game:
    id: str
    code: str
    title: str
    type: str
    prompts: list[dict[str, Any]]
    settings: dict[str, int]
    host_token_hash: str
    secret: str  # derives anonymous option ids; never leaves the server
    created_at: int
    status: str = LOBBY
    phase: str = LOBBY
    round: int = -1
    deadline: int | None = None
    locked: bool = False
    finished_at: int | None = None
    synced_at: int | None = None  # when the cloud copy was verified; set by the sync, never by the engine
    outcomes: dict[int, str] = field(default_factory=dict)  # round -> "scored" | "skipped"
    players: dict[str, Player] = field(default_factory=dict)
    nicknames: dict[str, str] = field(default_factory=dict)  # folded nickname -> player id
    entries: dict[int, dict[str, dict[str, Entry]]] = field(default_factory=dict)  # round, kind, player
    options: dict[int, dict[str, str]] = field(default_factory=dict)  # round -> option id -> player
    # (round, kind, key) -> how many entries count that entry (a Q&A question's upvotes): kept on the
    # counted entry's item, so a load of that one item knows it (items.event_writes).
    counts: dict[tuple[int, str, str], int] = field(default_factory=dict)
    # Bumped by every entry added, removed or changed in memory (not stored): what a type derives from
    # many entries (a Q&A's most upvoted questions) is cached until it moves.
    entries_changed: int = 0
    acks: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (actor, cmd id) -> ack
    # The host's last few acks by command id, stored in META: a host command has no entry of its own to
    # rebuild its ack from after a restart, as an answer has, and the console retries its last commands.
    host_acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    connected: set[str] = field(default_factory=set)  # player ids with an open socket; not stored
    active: int = 0  # players not kicked, kept by evolve: every answer asks, so it is never counted
    seated: int = 0  # players not kicked who have ever connected: the ones a phase waits for
    clients: dict[str, str] = field(default_factory=dict)  # client id hash -> player id
    devices: set[str] = field(default_factory=set)  # device hashes of the players not kicked
    banned: set[str] = field(default_factory=set)  # device and address hashes of kicked players
    seq: int = 0
    version: int = 0
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)  # what types derive; not stored

    def active_players(self) -> list[Player]:
        return [p for p in self.players.values() if not p.kicked]

    def round_type(self, round: int) -> str:
        """The slug of the type that plays `round`: its prompt's `type`, else the game's own.

        Only a mixed game's prompts name a type (and only those of a type other than the game's), so a
        single-type game is stored and sent as it always was. Before the first round (the lobby) and
        after the last, it is the game's type.
        """
        prompt = self.prompts[round] if 0 <= round < len(self.prompts) else {}
        return str(prompt.get("type", self.type))

    def round_types(self) -> list[str]:
        """Each round's type, in order: what a mixed game's META keeps for loads without prompts."""
        return [self.round_type(r) for r in range(len(self.prompts))]

    def round_entries(self, round: int, kind: str) -> dict[str, Entry]:
        """The entries of one kind in one round, by player id (empty when there are none)."""
        return self.entries.get(round, {}).get(kind, {})


@dataclass(frozen=True)
class Actor:
    role: str  # "host", "player" or "system"
    player: str | None = None

    @property
    def key(self) -> str:
        return self.player or self.role


HOST = Actor("host")
SYSTEM = Actor("system")


@dataclass(frozen=True)
class Command:
    type: str
    actor: Actor
    fields: dict[str, Any]
    at: int  # arrival time, ms
    id: str = ""


@dataclass(frozen=True)
class Event:
    """A change to a game. The engine applies it; the store layer turns it into writes."""

    kind: str
    data: dict[str, Any]


class Rejected(Exception):
    """A command the game refuses; nothing of it was applied."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
