"""Engagement types: the rules of one kind of round, plugged into the core engine.

A type receives the commands its players send inside a round, says when a phase may close early,
closes phases, scores a round from its entries and describes the round for the views. Everything
else (lobby, joining, kicking, timers, the order of rounds, leaderboard) belongs to the core, so a
new type (a quiz, a poll) is one class registered under the `engagements.types` entry-point group.

A game may mix types: each round is played by its own (`Game.round_type`), so the core is handed
every installed type (`Types`) and asks `kind_of` which one plays the round at hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from engagements.model import BOARD, FINISHED, LANE, Command, Entry, Event, Game
from engagements.packfile import PackError, RawPack
from engagements.ranking import Head
from engagements.settings import Setting


class EngagementType:
    """The interface a type implements; the methods below are what the core calls."""

    slug: ClassVar[str]
    title: ClassVar[str]
    commands: ClassVar[frozenset[str]]  # the player command types this type accepts
    # The host's commands inside this type's rounds besides the core's (a word cloud's `hide`): the
    # core checks that the host sent one, then hands it to `decide` like a player's.
    host_commands: ClassVar[frozenset[str]] = frozenset()
    phases: ClassVar[tuple[str, ...]]  # the first opens a round, the last shows results until "next"
    timers: ClassVar[dict[str, str]]  # timed phase -> the setting holding its seconds
    # The type's own settings (a game also has the core's, settings.JOIN_SETTINGS): the host's form is
    # built from them and a new game's values are checked against them.
    settings: ClassVar[tuple[Setting, ...]] = ()
    # How the host's form takes this type's prompts, one a line (`prompt_line` writes a prompt so, and
    # `parse_prompt` reads it back): the form's hint, and the longest line it lets through.
    prompt_hint: ClassVar[str] = "one per line"
    prompt_chars: ClassVar[int] = 200
    # The type a game gets when its creator names none: at most one installed type says so.
    default: ClassVar[bool] = False
    # Whether its rounds give players points: a type that keeps none (the poll) is left out of the
    # exports' points per player and round (its browser module says `scored = false`).
    keeps_score: ClassVar[bool] = True
    # Player commands decided from the game's META, the sender's own PLAYER item and entries (one per
    # kind of `entry_kinds`), and (in a phase of `partial_phases`) the sender's partial state: the
    # cloud applies them without loading the other players, so their cost does not grow with the
    # room, and settles the phase from the whole game once `may_be_complete` says so.
    partial_commands: ClassVar[frozenset[str]] = frozenset()
    # Phases whose partial commands need what `partial_state` derives from the whole game.
    partial_phases: ClassVar[frozenset[str]] = frozenset()
    # Fields of `progress` only the board views get (a word cloud's words): a phone's copy leaves
    # them out, so what a phone is sent stays small however much the board shows.
    board_progress: ClassVar[frozenset[str]] = frozenset()
    # How many of the highest `ranked` tallies `progress_of` needs (0: the type ranks none).
    ranked_shown: ClassVar[int] = 0
    # Whether partial commands read the current round's prompt (a quiz checks a choice against its
    # options, a poll its choices): the cloud then loads that one PROMPT item too, at its index in
    # `game.prompts`.
    partial_prompt: ClassVar[bool] = False
    # Phases in which a phone's `you` needs what only the whole game knows (a ballot, a result):
    # `partial_state` returns it for every player there, and `you_of` reads it back.
    you_phases: ClassVar[frozenset[str]] = frozenset()
    # Read-only requests of the host's in this type's rounds (a Q&A's page of questions), answered by
    # `request`, like the core's `players` and `results`.
    requests: ClassVar[frozenset[str]] = frozenset()
    # Ranked lists whose heads the views show live (a Q&A's most upvoted questions): list name ->
    # (entries from the top, entries from the bottom). An entry that `ranking` puts in a list is
    # indexed by its count (engagements/ranking.py), so the cloud reads a head without reading the
    # list and hands it to `ranked_progress`.
    rankings: ClassVar[dict[str, tuple[int, int]]] = {}
    # The boolean setting that runs this type alongside the rounds (a Q&A open all game long), or
    # None: offered on every game's form (with the type's other settings once it is on), and when on,
    # the game has a lane, round `model.LANE`, that this type plays beside whatever round is on: its
    # commands name `round: LANE`, its entries are that round's, the game's phases never see it.
    alongside: ClassVar[str | None] = None

    @property
    def defaults(self) -> dict[str, int | bool]:
        return {s.name: s.default for s in self.settings}

    @property
    def static_dir(self) -> Path | None:
        """The folder served under /types/<slug>/ (its round.js renders this type's phases)."""
        return None

    def parse_prompt(self, raw: Any) -> dict[str, Any]:
        """A stored prompt from what a host wrote: one line of the form, a JSON pack's item or what
        `csv_prompt` made of a CSV row; raises Rejected saying what to fix."""
        raise NotImplementedError

    # -- question packs (engagements/packs.py; the formats are in README.md, "Question packs") ----
    # Files besides JSON and CSV this type reads its packs from, by suffix: see `read_pack_file`.
    pack_suffixes: ClassVar[tuple[str, ...]] = ()

    def prompt_line(self, prompt: dict[str, Any]) -> str:
        """A stored prompt as one line of the host's form (a pack's prompts are shown there), which
        `parse_prompt` reads back."""
        return prompt["text"]

    def csv_prompt(self, row: list[str], header: list[str] | None) -> Any:
        """What `parse_prompt` reads from one row of a CSV pack; `header` is the first row, in lower
        case, when it names the columns (packs.HEADER). By default: the column `prompt`, `text` or
        `question`, else the first."""
        for name in ("prompt", "text", "question") if header else ():
            if name in header:
                col = header.index(name)
                return row[col] if col < len(row) else ""
        return row[0] if row else ""

    def pack_item(self, prompt: dict[str, Any]) -> Any:
        """A stored prompt as a JSON pack (an exported game) holds it: `parse_prompt` reads it back
        to the same prompt. By default its line of the form, which `parse_prompt` reads too."""
        return self.prompt_line(prompt)

    def read_pack_file(self, data: bytes, suffix: str) -> RawPack:
        """A pack from a file of one of `pack_suffixes`; raises PackError saying what to fix."""
        raise PackError(f"A {self.title} pack cannot be read from a {suffix} file.")

    def decide(self, game: Game, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        """Events and ack fields for a player's command; raises Rejected."""
        raise NotImplementedError

    def partial_entries(
        self, game: Game, type_: str, fields: dict[str, Any], player: str
    ) -> list[tuple[str, str]]:
        """The entries of the current round, as (kind, key), that a partial command reads besides the
        sender's PLAYER item (`game` holds META alone): by default the sender's of each of
        `entry_kinds` (those it may write; a retry finds its first ack there). A type whose entries
        are keyed otherwise (a Q&A's questions by id) names them from the command's fields."""
        return [(k, player) for k in self.entry_kinds(type_, game.settings)]

    def author(self, entry: Entry) -> str:
        """Who made `entry` (whose retried command its ack answers): the player it is keyed by, unless
        the type keys its entries otherwise (a Q&A's questions by their ids)."""
        return entry.player

    def ranking(self, entry: Entry) -> str | None:
        """The ranked list `entry` is in (see `rankings`), if any."""
        return None

    def request(self, game: Game, type_: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The reply to one of the host's `requests` (a page: at most 32 KB); raises Rejected."""
        raise NotImplementedError

    def partial_state(self, game: Game) -> dict[str, dict[str, Any]]:
        """Per player, what their partial commands (in `partial_phases`) and their phone's `you` (in
        `you_phases`) need from the whole game in the current phase (a ballot, a result): computed
        when META changes, kept with the player, small. In a phase of `you_phases`, for every
        player not kicked (a player without one is then told from the whole game)."""
        return {}

    def restore_partial(self, game: Game, player: str, state: dict[str, Any]) -> None:
        """Put `partial_state`'s item for `player` into a partial game, for `decide` to find."""

    def may_be_complete(self, phase: str, entered: dict[str, int], players: int) -> bool:
        """From the counts alone (entries of the round by kind, players not kicked): whether
        `is_complete` may now hold, so it is worth asking it on the whole game."""
        return False

    def is_complete(self, game: Game) -> bool:
        """Everyone who can act in the current phase has: it may close before its deadline."""
        raise NotImplementedError

    def close_phase(self, game: Game, at: int) -> list[Event]:
        raise NotImplementedError

    def on_kick(self, game: Game, player: str) -> list[Event]:
        raise NotImplementedError

    def score(self, game: Game, round: int) -> dict[str, int]:
        """Points per player for a round, from its entries alone, so a restart can recompute them."""
        raise NotImplementedError

    def tallies(self, entry: Entry) -> tuple[str, ...]:
        """Counters besides its kind's count that `entry` adds one to (a poll's votes per option),
        named apart from the commands: the cloud keeps them on META like the entries' counts and
        hands them to `progress_of`. An entry with tallies is never removed (`on_kick` keeps it):
        its removal could not find them again."""
        return ()

    def entry_kinds(self, command: str, settings: Mapping[str, Any]) -> tuple[str, ...]:
        """The kinds of entry a player's `command` may write in a round, one entry of each kind per
        player: usually one, named after the command; several when a player sends it more than once
        a round (a word cloud's words, as many as `settings` allow). The cloud loads the sender's
        entry of each kind for a partial command, and counts and guards each kind."""
        return (command,)

    def ranked(self, entry: Entry) -> tuple[str, ...]:
        """Tallies like `tallies`, but too many to keep on META (a word cloud's count of each word,
        one per different word): the cloud keeps one counter item each and the round's highest
        (cloud/tallies.py), and hands `progress_of` the `ranked_shown` highest of them by name.
        Never removed, like `tallies`."""
        return ()

    def ack(self, entry: Entry) -> dict[str, Any]:
        """The ack fields of the command that made `entry`, to answer its retries the same way."""
        return {}

    def round_view(self, game: Game, audience: str) -> dict[str, Any]:
        """The round as `audience` (BOARD or PHONES) sees it: sized by the view, never by the players."""
        raise NotImplementedError

    def you_view(self, game: Game, player: str) -> dict[str, Any]:
        """What is private to one player in this round (their ballot, their result)."""
        raise NotImplementedError

    def you_entries(self, game: Game, player: str, shown: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The entries of the current round a phone's `you` is made of, by the name `you_of` finds
        them under, as (kind, key); `game` holds META alone, `shown` is the keys of the entries the
        views now show at the heads of the type's `rankings` (a Q&A's listed questions). By default
        the player's entry of each kind its commands write, named by its kind. A few, whatever the
        room: the cloud reads each by key."""
        return {k: (k, player) for c in sorted(self.commands) for k in self.entry_kinds(c, game.settings)}

    def you_tallies(self, phase: str, own: Mapping[str, Entry]) -> tuple[str, ...]:
        """The `ranked` tallies a phone's `you` shows (a word cloud's count of each of the player's
        words in its results), from `own` (`you_entries`, found): the cloud reads each by key."""
        return ()

    def you_of(
        self,
        round: int,
        phase: str,
        own: Mapping[str, Entry],
        state: dict[str, Any] | None,
        counts: Mapping[str, int],
    ) -> dict[str, Any] | None:
        """`you_view` from the player's own items alone: `own`, the entries of round `round` that
        `you_entries` names, found, by name; `state`, what `partial_state` kept for them in this
        phase (None outside `you_phases`, and for a player it kept none for: one who joined since);
        `counts`, the round's counts as `progress_of` takes them, the tallies `you_tallies` names
        and, under its name in `own`, the count of each entry others count (a question's upvotes).
        The cloud renders a phone's snapshot so, at a cost that does not grow with the room
        (engagements.snapshots); None: the whole game is needed (a type without this method, or a
        state needed and not kept)."""
        return None

    def counted(self, view: dict[str, Any], progress: dict[str, Any], audience: str) -> dict[str, Any]:
        """`round_view` as rendered when META last changed, with the round's counts now (`progress_of`
        of META's counters): the counts are all of a round view that changes without META; the
        fields of `board_progress` only for the board views."""
        kept = {"round"} | (set() if audience == BOARD else self.board_progress)
        return {**view, **{k: v for k, v in progress.items() if k in view and k not in kept}}

    def progress(self, game: Game) -> dict[str, Any]:
        raise NotImplementedError

    def progress_of(
        self, round: int, phase: str, entered: dict[str, int], players: int
    ) -> dict[str, Any] | None:
        """`progress` from the counts alone (the cloud keeps them on META: the round's entries by
        kind, and the type's `tallies` by name; and the highest `ranked` ones); None if it needs
        more."""
        return None

    def ranked_progress(
        self, round: int, phase: str, entered: dict[str, int], players: int, heads: dict[str, Head]
    ) -> dict[str, Any]:
        """`progress` of a type with `rankings`, from the counts and the heads of its lists (read from
        memory on the appliance, from the index in the cloud: the same function renders both)."""
        raise NotImplementedError

    # -- a lane (`alongside`): the type's round LANE, open while the game is not finished ---------

    def lane_phase(self, status: str) -> str:
        """The lane's phase, from the game's status alone: the first until the game finishes, then
        the last (a Q&A's `open`, then `closed`): the lane has no phases of its own to keep."""
        return self.phases[-1] if status == FINISHED else self.phases[0]

    def lane_view(self, game: Game, audience: str) -> dict[str, Any]:
        """The lane as `audience` sees it (a snapshot's `game.lane`), sized like a round view."""
        raise NotImplementedError

    def lane_you_view(self, game: Game, player: str) -> dict[str, Any]:
        """What of the lane is private to one player (a snapshot's `you.lane`)."""
        raise NotImplementedError

    def lane_progress(self, game: Game) -> dict[str, Any]:
        """The lane's live counts (the `lane` update), as `lane_view` carries them."""
        raise NotImplementedError

    def lane_export_rows(self, game: Game) -> list[dict[str, Any]]:
        """The lane's rows for the exports and the CSV (after the rounds' rows; no `round`)."""
        return []

    def on_lane_kick(self, game: Game, player: str) -> list[Event]:
        """What a kick changes in the lane (a kicked player's questions hidden)."""
        return []

    def results(self, game: Game, round: int) -> list[dict[str, Any]]:
        """Every result row of a finished round, best first: the host pages through them."""
        raise NotImplementedError

    def export_rows(self, game: Game) -> list[dict[str, Any]]:
        """One flat row per result of every scored round, for the CSV download."""
        raise NotImplementedError


Types = Mapping[str, EngagementType]  # the installed types by slug (plugins.load_types)


def kind_of(game: Game, types: Types, round: int | None = None) -> EngagementType:
    """The type that plays `round` of `game` (by default the current one; the game's own type in
    the lobby and once finished): it decides that round's commands, phases, timers, scores and views."""
    r = game.round if round is None else round
    if r == LANE and (lane := lane_of(game, types)) is not None:
        return lane
    return types[game.round_type(r)]


def lane_of(game: Game, types: Types) -> EngagementType | None:
    """The type that runs alongside this game's rounds (its `alongside` setting is on), if any."""
    return lane_in(game.settings, types)


def lane_in(settings: Mapping[str, Any], types: Types) -> EngagementType | None:
    """`lane_of` from a game's settings alone (the cloud's META)."""
    return next((k for k in types.values() if k.alongside and settings.get(k.alongside, False)), None)


def lane_command(
    settings: Mapping[str, Any], types: Types, command: str, fields: Mapping[str, Any]
) -> EngagementType | None:
    """The type running alongside the rounds, for one of its commands in its lane (`round: LANE`):
    it decides it in any phase, beside whatever round is on (engine.decide; the cloud loads the
    items it reads by it). None for any other command."""
    lane = lane_in(settings, types) if fields.get("round") == LANE else None
    return lane if lane is not None and command in lane.commands | lane.host_commands else None
