"""Word cloud: the audience answers a question in a few words each; the big screen shows them as a cloud.

Each player sends up to `words_per_player` entries a round (a word or a short phrase each), one
command per entry. Entries are counted in their normal form (words.py: "Pizza!" and "pizza" are one
word) and the board views see the most-sent words live, sized by their counts; a phone is told only
what it sent, and the round's totals. The host can hide a word (`hide`): it leaves the cloud, the
live counts, the results and the CSV at once (a player's own phone still lists it, marked hidden).
Nobody scores: a round is scored with no points, like a poll's.

How entries are kept. One player's entries in a round are entries of their own kinds, `word`,
`word2` … `word5` (`entry_kinds`): one per word slot, so the store's one-entry-per-kind rule keeps a
player to their limit (two words sent at once race for one slot, and the loser takes the next).
The slot that fills a player's limit counts `done`, so the phase can close once every seated player
is done. A hidden word is an entry of kind `hidden` keyed by the word itself (the host's), with a
META tally `hidden#<word>`, so counts alone say which words to leave out.

What each view is sent stays the same size at any number of players: the board views get the
TOP_SHOWN most-sent visible words with their counts (at most a few KB), in the round view and in
`progress` (`board_progress`: a phone's copy leaves them out); a phone gets its own words. In the
cloud, a word's count is a counter item of its own and the board's top words come from a bounded
summary of the highest (the `ranked` tallies, cloud/tallies.py): an entry never reads the whole game.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from engagements.engine import phase_event
from engagements.model import BOARD, Command, Entry, Event, Game, Rejected
from engagements.settings import INTEGER, Setting
from engagements.text import one_line
from engagements.types import EngagementType
from engagements.types.word_cloud.words import WORD_MAX, normalise

OPEN, RESULTS = "open", "results"
WORD, HIDE = "word", "hide"
HIDDEN = "hidden"  # the kind of a hidden word's entry (the host's, keyed by the word)
DONE = "done"  # the tally of the entries that fill a player's limit
PROMPT_MAX = 140
MOST_WORDS = 5  # the highest `words_per_player`
TOP_SHOWN = 60  # words the board views are sent: a cloud that stays legible on a projector
MAX_HIDDEN = 20  # words the host may hide in one round
SETTING_WORDS, SETTING_SECONDS = "words_per_player", "word_seconds"


def slot_kind(slot: int) -> str:
    """The entry kind of a player's `slot`-th word of a round (from 1): `word`, `word2`, …"""
    return WORD if slot == 1 else f"{WORD}{slot}"


SLOTS = tuple(slot_kind(s) for s in range(1, MOST_WORDS + 1))


def counter(word: str) -> str:
    """The tally of one word (a `ranked` one: one per different word)."""
    return f"w#{word}"


def hidden_tally(word: str) -> str:
    """The META tally that says `word` is hidden in its round."""
    return f"{HIDDEN}#{word}"


class WordCloud(EngagementType):
    slug = "word-cloud"
    title = "Word cloud"
    keeps_score = False
    commands = frozenset({WORD})
    host_commands = frozenset({HIDE})
    partial_commands = frozenset({WORD})  # decided from the sender's own entries alone
    phases = (OPEN, RESULTS)
    timers: ClassVar[dict[str, str]] = {OPEN: SETTING_SECONDS}
    board_progress = frozenset({"words"})
    # The highest word counts the cloud needs from its ranked tallies: the words shown, plus the
    # hidden ones that may sit among them.
    ranked_shown = TOP_SHOWN + MAX_HIDDEN
    prompt_hint = "one per line: a question to answer in a word or two"
    prompt_chars = PROMPT_MAX
    settings = (
        Setting(
            SETTING_SECONDS, "Seconds to send words", INTEGER, 90, 10, 600, "seconds",
            "The host can close it earlier; it closes by itself once everyone has sent all their words.",
        ),
        Setting(
            SETTING_WORDS, "Words per player", INTEGER, 3, 1, MOST_WORDS, "words",
            "How many words or short phrases each player may send to one cloud.",
        ),
    )  # fmt: skip

    @property
    def static_dir(self) -> Path:
        return Path(__file__).parent / "static"

    def parse_prompt(self, raw: Any) -> dict[str, Any]:
        """A question from a typed line, or an object's `question` (or `prompt`, `text`)."""
        if isinstance(raw, dict):
            raw = raw.get("question", raw.get("prompt", raw.get("text")))
        return {"text": one_line(raw, PROMPT_MAX, "question")}

    def entry_kinds(self, command: str, settings: Mapping[str, Any]) -> tuple[str, ...]:
        if command != WORD:
            return (command,)
        return SLOTS[: limit_of(settings)]

    # -- commands ------------------------------------------------------------------------------

    def decide(self, game: Game, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        if not isinstance(cmd.fields.get("round"), int) or isinstance(cmd.fields["round"], bool):
            raise Rejected("bad_message", "`round` must be the round number.")
        if cmd.type == HIDE:
            return self._hide(game, cmd)
        if cmd.fields["round"] != game.round or game.phase != OPEN:
            raise Rejected("stale", "This word cloud has closed.")
        if game.deadline is not None and cmd.at > game.deadline:
            raise Rejected("stale", "Time is up.")
        player = cmd.actor.player or ""
        word = normalise(cmd.fields.get("text"))
        limit = limit_of(game.settings)
        mine = own_words(game, game.round, player, limit)
        if word in mine.values():
            raise Rejected("already_sent", "You have already sent that one.")
        free = next((s for s in range(1, limit + 1) if s not in mine), None)
        if free is None:
            raise Rejected("no_words_left", f"You have sent all your {words_of(limit)}.")
        value: dict[str, Any] = {"word": word}
        if free == limit:
            value["last"] = True
        entry = Entry(game.round, slot_kind(free), player, value, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry})], self.ack(entry)

    def _hide(self, game: Game, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        """The host hides a word someone sent in the current round (while it is open or in its
        results): the hiding is for the round, and cannot be taken back."""
        if cmd.fields["round"] != game.round or game.phase not in self.phases:
            raise Rejected("stale", "That round has already closed.")
        word = normalise(cmd.fields.get("word"))
        hidden = game.round_entries(game.round, HIDDEN)
        if word in hidden:
            return [], {"word": word}
        if not self._counts(game, game.round).get(counter(word)):
            raise Rejected("no_such_option", "Nobody has sent that word in this round.")
        if len(hidden) >= MAX_HIDDEN:
            raise Rejected("invalid", f"At most {MAX_HIDDEN} words can be hidden in one round.")
        entry = Entry(game.round, HIDDEN, word, {"word": word}, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry})], {"word": word}

    def ack(self, entry: Entry) -> dict[str, Any]:
        """A word's ack: its normal form (what was counted) and how many words the player has sent."""
        if entry.kind == HIDDEN:
            return {"word": entry.value["word"]}
        return {"word": entry.value["word"], "sent": SLOTS.index(entry.kind) + 1}

    def tallies(self, entry: Entry) -> tuple[str, ...]:
        if entry.kind == HIDDEN:
            return (hidden_tally(entry.value["word"]),)
        return (DONE,) if entry.value.get("last") else ()

    def ranked(self, entry: Entry) -> tuple[str, ...]:
        return () if entry.kind == HIDDEN else (counter(entry.value["word"]),)

    # -- phases --------------------------------------------------------------------------------

    def may_be_complete(self, phase: str, entered: dict[str, int], players: int) -> bool:
        return phase == OPEN and players > 0 and entered.get(DONE, 0) >= players

    def is_complete(self, game: Game) -> bool:
        """Every seated player has sent all their words (a kicked player's words stay counted and
        stand for nobody)."""
        last = game.round_entries(game.round, slot_kind(limit_of(game.settings)))
        if not self.may_be_complete(game.phase, {DONE: len(last)}, game.seated):
            return False
        return sum(not game.players[p].kicked for p in last if p in game.players) >= game.seated

    def close_phase(self, game: Game, at: int) -> list[Event]:
        scored = Event("round_scored", {"round": game.round, "points": {}})  # counted, never scored
        return [scored, phase_event(game, RESULTS, at, self)]

    def on_kick(self, game: Game, player: str) -> list[Event]:
        """A kicked player's words stay counted (the counters only ever go up); the host hides a
        word that should not be shown."""
        return []

    def score(self, game: Game, round: int) -> dict[str, int]:
        return {}

    # -- counts --------------------------------------------------------------------------------

    def _tally(self, game: Game, round: int) -> dict[str, Any]:
        """The round's counts, named as the cloud keeps them: entries by kind, the `done` and hidden
        tallies (META) and every word's count (the ranked tallies); and the words the board views
        are shown. Recounted only when an entry arrived since, so a room's snapshots and `you`
        messages cost no recount each."""
        kinds = game.entries.get(round, {})
        key = (round, tuple(len(kinds.get(k, ())) for k in (*SLOTS, HIDDEN)))
        cached = game.cache.get("word-counts")
        if cached is None or cached[0] != key:
            counts: dict[str, int] = {}
            for kind in (*SLOTS, HIDDEN):
                entries = kinds.get(kind, {})
                if entries:
                    counts[kind] = len(entries)
                for entry in entries.values():
                    for name in (*self.tallies(entry), *self.ranked(entry)):
                        counts[name] = counts.get(name, 0) + 1
            cached = (key, {"counts": counts, "top": [[w, n] for w, n in top_words(counts, TOP_SHOWN)]})
            game.cache["word-counts"] = cached
        return cached[1]

    def _counts(self, game: Game, round: int) -> dict[str, int]:
        return self._tally(game, round)["counts"]

    def progress(self, game: Game) -> dict[str, Any]:
        tally = self._tally(game, game.round)
        return self._progress(game.round, tally["counts"], game.seated, tally["top"])

    def progress_of(self, round: int, phase: str, entered: dict[str, int], players: int) -> dict[str, Any]:
        """`entries` (words sent), `players` (players who sent one), `eligible`, `hidden` (words
        hidden) and, for the board views, `words`: the most-sent visible words, [[word, count]]."""
        return self._progress(round, entered, players, [[w, n] for w, n in top_words(entered, TOP_SHOWN)])

    @staticmethod
    def _progress(
        round: int, entered: dict[str, int], players: int, words: list[list[Any]]
    ) -> dict[str, Any]:
        return {
            "round": round,
            "entries": sum(entered.get(k, 0) for k in SLOTS),
            "players": entered.get(WORD, 0),
            "eligible": players,
            "hidden": entered.get(HIDDEN, 0),
            "words": words,
        }

    def results(self, game: Game, round: int) -> list[dict[str, Any]]:
        """Every visible word with its count, most sent first (ties share a rank, then by word)."""
        ranked = top_words(self._counts(game, round), None)
        rows: list[dict[str, Any]] = []
        for i, (word, count) in enumerate(ranked):
            rank = rows[-1]["rank"] if rows and rows[-1]["count"] == count else i + 1
            rows.append({"word": word, "count": count, "rank": rank})
        return rows

    def export_rows(self, game: Game) -> list[dict[str, Any]]:
        """Every visible word of every cloud with its count: counts only, never who sent what."""
        return [
            {"round": r + 1, "question": game.prompts[r]["text"], **row}
            for r, outcome in sorted(game.outcomes.items())
            if outcome == "scored"
            for row in self.results(game, r)
        ]

    # -- views ---------------------------------------------------------------------------------

    def round_view(self, game: Game, audience: str) -> dict[str, Any]:
        """The question, the limits a phone needs and the counts; the board views also get the
        cloud's words (a phone gets only its own, in `you`)."""
        progress = self.progress(game)  # counted once per entry, not once per view
        return {
            "index": game.round,
            "phase": game.phase,
            "prompt": game.prompts[game.round]["text"],
            "deadline": game.deadline,
            "limit": limit_of(game.settings),
            "chars": WORD_MAX,
            "entries": progress["entries"],
            "players": progress["players"],
            "eligible": progress["eligible"],
            "hidden": progress["hidden"],
            "words": progress["words"] if audience == BOARD else None,
        }

    def you_view(self, game: Game, player: str) -> dict[str, Any]:
        r = game.round
        if r < 0 or game.phase not in self.phases:
            return {"words": None}
        own = {k: e for k in SLOTS if (e := game.round_entries(r, k).get(player)) is not None}
        return self.you_of(r, game.phase, own, None, self._counts(game, r))

    def you_tallies(self, phase: str, own: Mapping[str, Entry]) -> tuple[str, ...]:
        """In the results, the counts of the player's words."""
        return tuple(counter(e.value["word"]) for e in own.values()) if phase == RESULTS else ()

    def you_of(
        self,
        round: int,
        phase: str,
        own: Mapping[str, Entry],
        state: dict[str, Any] | None,
        counts: Mapping[str, int],
    ) -> dict[str, Any]:
        """The player's own words this round, in the order sent; in the results each with its
        count. A word the host hid is marked `hidden` (and has no count)."""
        if round < 0 or phase not in self.phases:
            return {"words": None}
        words = []
        for entry in (own[k] for k in SLOTS if k in own):
            word = entry.value["word"]
            row: dict[str, Any] = {"word": word, "count": None}
            if hidden_tally(word) in counts:
                row["hidden"] = True
            elif phase == RESULTS:
                row["count"] = counts.get(counter(word), 0)
            words.append(row)
        return {"words": words}


def limit_of(settings: Mapping[str, Any]) -> int:
    """The game's words per player (a game made before the setting existed has the default)."""
    return int(settings.get(SETTING_WORDS, 3))


def words_of(n: int) -> str:
    return f"{n} word" if n == 1 else f"{n} words"


def own_words(game: Game, round: int, player: str, limit: int) -> dict[int, str]:
    """A player's words of a round by slot (from 1)."""
    mine = {}
    for slot in range(1, limit + 1):
        entry = game.round_entries(round, slot_kind(slot)).get(player)
        if entry is not None:
            mine[slot] = entry.value["word"]
    return mine


def top_words(counts: Mapping[str, int], n: int | None) -> list[tuple[str, int]]:
    """The visible words among `counts` (names as `counter` and `hidden_tally` make them), most
    sent first, ties by word; the `n` first, or all."""
    prefix = counter("")
    visible = (
        (name[len(prefix) :], count)
        for name, count in counts.items()
        if name.startswith(prefix) and count > 0 and hidden_tally(name[len(prefix) :]) not in counts
    )
    order = lambda pair: (-pair[1], pair[0])  # noqa: E731
    return sorted(visible, key=order) if n is None else heapq.nsmallest(n, visible, key=order)
