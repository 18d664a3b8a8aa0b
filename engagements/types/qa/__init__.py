"""Q&A: the audience asks questions and upvotes each other's; the host takes them one at a time.

A round is one Q&A segment under a topic (its prompt): `open` while questions and votes come in, then
`closed` (nothing new; the host can still go through the list) until `next`. Between the rounds of a
mixed game it is a segment like any other; it keeps no scores.

A question is an entry keyed by its id (so one vote reads one question: `author` says whose it is),
derived from the game's secret, the round, its author and which of the author's `qa_questions` slots
it fills: an ask reads only its author's few slots. A vote is an entry keyed by voter and question,
so a second vote of one player for one question cannot be written (one vote each, also racing in the
cloud); it counts the question (`counts` of engagements/ranking.py: the question's item keeps its
count), and an un-vote takes it back. A question's state is also the ranked list it is in
(`ranking`): `asked`, `highlighted` (at most one), `answered` or `hidden`. The views show the heads
of `asked` (the most upvoted, then the newest with the fewest votes) and the highlighted one, never
a hidden one and never the whole list, so every message is sized by the view, not the room.

Alongside (`qa_alongside`): the Q&A also runs beside the game's rounds, from the lobby to the end,
in the game's lane (round `model.LANE`): the same questions, votes, lists and moderation, keyed by
that round, so an answer-then-vote round or a quiz question plays on while the audience asks; the
lane's commands name `round: LANE`, and it has no phases of its own (open until the game finishes).

Anonymity (`qa_anonymous`): an anonymous question is stored without its author's nickname, so no
view (not the big screen, not a phone, not the host) and no CSV can name its author; the author's id
stays on the entry, on the server only, for the limit, their own list and the rule that nobody
upvotes their own question. Without it, every view shows who asked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from engagements.engine import phase_event
from engagements.model import LANE, Command, Entry, Event, Game, Rejected
from engagements.ranking import Head, Ranked, heads, order
from engagements.settings import BOOLEAN, INTEGER, Setting
from engagements.text import one_line
from engagements.types import EngagementType

OPEN, CLOSED = "open", "closed"
ASK, UPVOTE, UNVOTE = "ask", "upvote", "unvote"
MODERATE = "moderate"  # the host's: a question's new state
QUESTIONS = "questions"  # the host's request: a page of the questions in one state
ASKED, HIGHLIGHTED, ANSWERED, HIDDEN = "asked", "highlighted", "answered", "hidden"
STATES = (ASKED, HIGHLIGHTED, ANSWERED, HIDDEN)
TEXT_MAX = 160  # a question's characters: two lines on the big screen
TOPIC_MAX = 140
TOP = 20  # the most upvoted questions every view is shown
FRESH = 5  # and the newest of those with the fewest votes, so that a new question gets seen
PAGE = 20  # questions in one page of the host's request
QUESTION_ID = re.compile(r"q[0-9a-f]{12}")
LANE_TOPIC = "Alongside the rounds"  # the exports' topic of the questions asked in the lane


def question_id(game: Game, round: int, player: str, slot: int) -> str:
    """The id of a player's `slot`-th question of a round: unguessable, and found again from META."""
    digest = hmac.new(game.secret.encode(), f"qa:{round}:{player}:{slot}".encode(), hashlib.sha256)
    return "q" + digest.hexdigest()[:12]


def vote_key(player: str, question: str) -> str:
    """A vote's key: one entry per player and question."""
    return f"{player}:{question}"


class QA(EngagementType):
    slug = "qa"
    title = "Q&A"
    commands = frozenset({ASK, UPVOTE, UNVOTE})
    partial_commands = frozenset({ASK, UPVOTE, UNVOTE})  # decided from a few entries (partial_entries)
    host_commands = frozenset({MODERATE})
    requests = frozenset({QUESTIONS})
    phases = (OPEN, CLOSED)
    keeps_score = False
    timers: ClassVar[dict[str, str]] = {}  # the host closes the questions
    rankings: ClassVar[dict[str, tuple[int, int]]] = {ASKED: (TOP, FRESH), HIGHLIGHTED: (1, 0)}
    alongside = "qa_alongside"
    prompt_hint = "one per line: the topic of each Q&A (Questions for the keynote)"
    prompt_chars = TOPIC_MAX
    settings = (
        Setting(
            "qa_questions", "Questions each player may ask", INTEGER, 3, 1, 10, "questions",
            "Per Q&A; a player may upvote any number of other people's questions, once each.",
        ),
        Setting(
            "qa_anonymous", "Anonymous questions", BOOLEAN, False,
            help="Nobody sees who asked what: not the big screen, not the phones, not the host.",
        ),
        Setting(
            "qa_alongside", "Q&A alongside the rounds", BOOLEAN, False,
            help="Phones can ask and upvote questions all game long, beside every round; "
            "the big screen shows the one you highlight.",
        ),
    )  # fmt: skip

    @property
    def static_dir(self) -> Path:
        return Path(__file__).parent / "static"

    # -- topics ----------------------------------------------------------------------------------

    def parse_prompt(self, raw: Any) -> dict[str, Any]:
        """A topic: text, or an object with `topic` (or `prompt`, `text`)."""
        if isinstance(raw, dict):
            raw = next((raw[k] for k in ("topic", "prompt", "text") if k in raw), None)
        return {"text": one_line(raw, TOPIC_MAX, "topic")}

    def csv_prompt(self, row: list[str], header: list[str] | None) -> Any:
        if header and "topic" in header:
            col = header.index("topic")
            return row[col] if col < len(row) else ""
        return super().csv_prompt(row, header)

    # -- commands --------------------------------------------------------------------------------

    def partial_entries(
        self, game: Game, type_: str, fields: dict[str, Any], player: str
    ) -> list[tuple[str, str]]:
        """An ask reads its author's slots; a vote, its question and the voter's vote for it."""
        r = LANE if self._in_lane(game, fields) else game.round
        if type_ == ASK:
            return [(ASK, question_id(game, r, player, s)) for s in range(self._limit(game))]
        question = fields.get("question")
        if isinstance(question, str) and QUESTION_ID.fullmatch(question):
            return [(ASK, question), (UPVOTE, vote_key(player, question))]
        return []

    def entry_kinds(self, command: str, settings: Any) -> tuple[str, ...]:
        """An ask writes a question, an upvote a vote; an un-vote writes none (it removes one)."""
        return () if command == UNVOTE else (command,)

    def author(self, entry: Entry) -> str:
        return entry.value["by"]

    def _in_lane(self, game: Game, fields: dict[str, Any]) -> bool:
        """Whether a command or request is about the game's lane (and the game has one)."""
        return fields.get("round") == LANE and bool(game.settings.get(self.alongside or "", False))

    def _open(self, game: Game, round: int) -> bool:
        """Whether questions come in: a segment while open, the lane until the game finishes."""
        return (self.lane_phase(game.status) if round == LANE else game.phase) == OPEN

    def decide(self, game: Game, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        """A command of the current round, or of the lane (`round: LANE`: the core hands this type
        only those of a game it runs alongside)."""
        r = cmd.fields.get("round")
        if not isinstance(r, int) or (r != game.round and not self._in_lane(game, cmd.fields)):
            raise Rejected("stale", "That Q&A has closed.")
        if cmd.type == MODERATE:
            return self._moderate(game, r, cmd), {}
        if not self._open(game, r):
            raise Rejected("stale", "Questions have closed.")
        player = cmd.actor.player or ""
        if cmd.type == ASK:
            return self._ask(game, r, player, cmd)
        question = self._question(game, r, cmd.fields.get("question"), listed=True)
        key = vote_key(player, question.player)
        vote = game.round_entries(r, UPVOTE).get(key)
        counts = [[ASK, question.player]]
        if cmd.type == UNVOTE:
            if vote is None:
                raise Rejected("not_voted", "You have not upvoted that question.")
            removed = {"round": r, "kind": UPVOTE, "player": key, "counts": counts}
            return [Event("entry_removed", removed)], {"question": question.player}
        if question.value["by"] == player:
            raise Rejected("own_question", "You cannot upvote your own question.")
        if vote is not None:
            raise Rejected("already_voted", "You have already upvoted that question.")
        entry = Entry(r, UPVOTE, key, {"by": player, "for": question.player}, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry, "counts": counts})], {"question": question.player}

    def _ask(self, game: Game, r: int, player: str, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        text = one_line(cmd.fields.get("text"), TEXT_MAX, "question")
        asked = game.round_entries(r, ASK)
        limit = self._limit(game)
        free = next((q for s in range(limit) if (q := question_id(game, r, player, s)) not in asked), None)
        if free is None:
            raise Rejected("question_limit", f"You can ask {limit} questions here.")
        value: dict[str, Any] = {"by": player, "text": text, "state": ASKED}
        if not game.settings.get("qa_anonymous", False):
            value["name"] = game.players[player].nickname
        entry = Entry(r, ASK, free, value, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry})], {"question": free}

    def _question(self, game: Game, r: int, raw: Any, *, listed: bool) -> Entry:
        """The question `raw` names; with `listed`, only one the audience can see (a hidden one is as
        good as none to them)."""
        if not isinstance(raw, str):
            raise Rejected("bad_message", "`question` must be a question's id.")
        question = game.round_entries(r, ASK).get(raw)
        if question is None or (listed and question.value["state"] == HIDDEN):
            raise Rejected("no_such_question", "There is no such question.")
        return question

    def _moderate(self, game: Game, r: int, cmd: Command) -> list[Event]:
        """The host moves a question to a state; highlighting one puts the highlighted one back."""
        question = self._question(game, r, cmd.fields.get("question"), listed=False)
        state = cmd.fields.get("state")
        if state not in STATES:
            raise Rejected("invalid", f"`state` is one of {', '.join(STATES)}.")
        if question.value["state"] == state:
            return []
        events = []
        if state == HIGHLIGHTED:
            events += [
                _changed(other, ASKED)
                for other in game.round_entries(r, ASK).values()
                if other.value["state"] == HIGHLIGHTED
            ]
        return [*events, _changed(question, state)]

    def ack(self, entry: Entry) -> dict[str, Any]:
        return {"question": entry.player if entry.kind == ASK else entry.value["for"]}

    @staticmethod
    def _limit(game: Game) -> int:
        return int(game.settings.get("qa_questions", 3))

    # -- phases ------------------------------------------------------------------------------------

    def is_complete(self, game: Game) -> bool:
        return False  # a Q&A runs until the host closes it

    def close_phase(self, game: Game, at: int) -> list[Event]:
        scored = Event("round_scored", {"round": game.round, "points": {}})  # no scores
        return [scored, phase_event(game, CLOSED, at, self)]

    def on_kick(self, game: Game, player: str) -> list[Event]:
        """A kicked player's questions are hidden (their votes stay counted)."""
        return self._hide_all(game, game.round, player)

    def on_lane_kick(self, game: Game, player: str) -> list[Event]:
        return self._hide_all(game, LANE, player)

    def _hide_all(self, game: Game, r: int, player: str) -> list[Event]:
        return [
            _changed(q, HIDDEN)
            for s in range(self._limit(game))
            if (q := game.round_entries(r, ASK).get(question_id(game, r, player, s)))
            and q.value["state"] != HIDDEN
        ]

    def score(self, game: Game, round: int) -> dict[str, int]:
        return {}

    def ranking(self, entry: Entry) -> str | None:
        return entry.value["state"] if entry.kind == ASK else None

    # -- views -------------------------------------------------------------------------------------

    def _heads(self, game: Game, round: int) -> dict[str, Head]:
        key = (round, game.entries_changed, len(game.round_entries(round, ASK)))
        cached = game.cache.get(("qa-heads", round))  # the round's and the lane's apart
        if cached is None or cached[0] != key:
            cached = (key, heads(game, round, self, (ASK,)))
            game.cache[("qa-heads", round)] = cached
        return cached[1]

    @staticmethod
    def _counts(game: Game, round: int) -> dict[str, int]:
        """The round's counts as the cloud keeps them on META: questions asked, upvotes standing."""
        return {ASK: len(game.round_entries(round, ASK)), UPVOTE: len(game.round_entries(round, UPVOTE))}

    def progress(self, game: Game) -> dict[str, Any]:
        return self._progress(game, game.round)

    def _progress(self, game: Game, r: int) -> dict[str, Any]:
        phase = self.lane_phase(game.status) if r == LANE else game.phase
        return self.ranked_progress(r, phase, self._counts(game, r), game.seated, self._heads(game, r))

    def ranked_progress(
        self, round: int, phase: str, entered: dict[str, int], players: int, heads: dict[str, Head]
    ) -> dict[str, Any]:
        """The counts, the highlighted question, the top questions and the newest with the fewest
        votes that are not among the top: at most 26 questions, whatever the room."""
        top = [view(q) for q in heads[ASKED].top]
        listed = {q["id"] for q in top}
        fresh = [view(q) for q in heads[ASKED].bottom if q[0].player not in listed]
        highlight = heads[HIGHLIGHTED].top
        return {
            "round": round,
            "asked": entered.get(ASK, 0),
            "votes": entered.get(UPVOTE, 0),
            "highlight": view(highlight[0]) if highlight else None,
            "top": top,
            "fresh": fresh,
        }

    def round_view(self, game: Game, audience: str) -> dict[str, Any]:
        """The same for every view (the lists are the audience's, never the hidden questions)."""
        return self._view(game, game.round, game.prompts[game.round]["text"], game.deadline)

    def _view(self, game: Game, r: int, prompt: str, deadline: int | None) -> dict[str, Any]:
        progress = self._progress(game, r)
        del progress["round"]
        return {
            "index": r,
            "phase": self.lane_phase(game.status) if r == LANE else game.phase,
            "prompt": prompt,
            "deadline": deadline,
            "anonymous": bool(game.settings.get("qa_anonymous", False)),
            "limit": self._limit(game),
            **progress,
        }

    def lane_view(self, game: Game, audience: str) -> dict[str, Any]:
        return self._view(game, LANE, game.title, None)

    def lane_progress(self, game: Game) -> dict[str, Any]:
        return self._progress(game, LANE)

    def lane_you_view(self, game: Game, player: str) -> dict[str, Any]:
        return self._you(game, LANE, player)

    def you_view(self, game: Game, player: str) -> dict[str, Any]:
        """Your own questions (hidden ones too: they are yours) and which of the listed ones you upvoted."""
        if game.round < 0 or game.phase not in self.phases:
            return {"mine": None, "voted": None}
        return self._you(game, game.round, player)

    def _you(self, game: Game, r: int, player: str) -> dict[str, Any]:
        """`you` from the whole game's entries of round `r` (a segment's, or the lane's), as `you_of`
        renders it from the few the cloud reads."""
        shown = [q.player for head in self._heads(game, r).values() for q, _ in (*head.top, *head.bottom)]
        own: dict[str, Entry] = {}
        counts: dict[str, int] = {}
        for name, (kind, key) in self._entries(game, r, player, shown).items():
            entry = game.round_entries(r, kind).get(key)
            if entry is not None:
                own[name] = entry
                counts[name] = game.counts.get((r, kind, key), 0)
        return self._own(own, counts)

    def you_entries(self, game: Game, player: str, shown: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The player's question slots, and their votes for the questions the views list."""
        return self._entries(game, game.round, player, shown)

    def _entries(self, game: Game, r: int, player: str, shown: Iterable[str]) -> dict[str, tuple[str, str]]:
        mine = {f"{ASK}#{s:02d}": (ASK, question_id(game, r, player, s)) for s in range(self._limit(game))}
        return mine | {f"{UPVOTE}#{q}": (UPVOTE, vote_key(player, q)) for q in shown}

    def you_of(
        self,
        round: int,
        phase: str,
        own: Mapping[str, Entry],
        state: dict[str, Any] | None,
        counts: Mapping[str, int],
    ) -> dict[str, Any]:
        if round < 0 or phase not in self.phases:
            return {"mine": None, "voted": None}
        return self._own(own, counts)

    @staticmethod
    def _own(own: Mapping[str, Entry], counts: Mapping[str, int]) -> dict[str, Any]:
        """`you` from the entries `you_entries` named, found, and their counts, by name."""
        mine = [view((e, counts.get(name, 0))) for name, e in sorted(own.items()) if e.kind == ASK]
        voted = sorted({e.value["for"] for e in own.values() if e.kind == UPVOTE})
        return {"mine": mine, "voted": voted}

    # -- the host's pages, results and the CSV -----------------------------------------------------

    def request(self, game: Game, type_: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A page of the questions in one state (every state when `state` is null), best first."""
        state, offset = fields.get("state"), fields.get("offset", 0)
        if state is not None and state not in STATES:
            raise Rejected("bad_message", f"`state` is null or one of {', '.join(STATES)}.")
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise Rejected("bad_message", "`offset` must be a whole number from 0.")
        r = LANE if self._in_lane(game, fields) else game.round
        rows = self._ranked(game, r, state)
        return {
            "type": QUESTIONS,
            "round": r,
            "state": state,
            "offset": offset,
            "total": len(rows),
            "items": [view(q) for q in rows[offset : offset + PAGE]],
        }

    def _ranked(self, game: Game, round: int, state: str | None) -> list[Ranked]:
        rows = [
            (q, game.counts.get((round, ASK, key), 0))
            for key, q in game.round_entries(round, ASK).items()
            if state is None or q.value["state"] == state
        ]
        return sorted(rows, key=lambda r: order(*r))

    def results(self, game: Game, round: int) -> list[dict[str, Any]]:
        """Every question, best first, hidden ones too (the host's)."""
        return [{**view(q), "rank": n} for n, q in enumerate(self._ranked(game, round, None), 1)]

    def export_rows(self, game: Game) -> list[dict[str, Any]]:
        """Every question of every closed Q&A, best first, with its author's nickname unless anonymous."""
        return [
            {
                "round": r + 1,
                "topic": game.prompts[r]["text"],
                "question": row["text"],
                "votes": row["votes"],
                "state": row["state"],
                "asked_by": row.get("name", ""),
            }
            for r, outcome in sorted(game.outcomes.items())
            if outcome == "scored"
            for row in self.results(game, r)
        ]

    def lane_export_rows(self, game: Game) -> list[dict[str, Any]]:
        """Every question asked alongside the rounds, best first, as a round's (no round: the topic
        says where they were asked)."""
        return [
            {
                "topic": LANE_TOPIC,
                "question": row["text"],
                "votes": row["votes"],
                "state": row["state"],
                "asked_by": row.get("name", ""),
            }
            for row in self.results(game, LANE)
        ]


def view(ranked: Ranked) -> dict[str, Any]:
    """A question as the views show it: its author's nickname only if the Q&A is not anonymous."""
    entry, votes = ranked
    out = {"id": entry.player, "text": entry.value["text"], "votes": votes, "state": entry.value["state"]}
    if "name" in entry.value:
        out["name"] = entry.value["name"]
    return out


def _changed(question: Entry, state: str) -> Event:
    return Event(
        "entry_changed", {"entry": dataclasses.replace(question, value={**question.value, "state": state})}
    )
