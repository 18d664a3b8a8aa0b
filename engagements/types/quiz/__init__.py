"""Quiz: multiple choice (2 to 6 options, one or more of them correct) and true/false questions.

A question opens (phase `question`, timed); each player answers once; the question closes on its
deadline or once everyone has answered, and the reveal shows the correct answer, how many chose each
option and (the core's) leaderboard until the host moves on. Points follow scoring.py: speed judged
by the answer's arrival on the server, and a streak bonus. Every view is sized by the question (its
options), never by the room: phones get the counts per option and their own result; the board views
also the fastest correct answers; the host pages through everyone's.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from engagements.engine import phase_event
from engagements.model import BOARD, Command, Entry, Event, Game, Rejected
from engagements.packfile import RawPack
from engagements.settings import INTEGER, Setting
from engagements.types import EngagementType
from engagements.types.quiz.questions import LINE_MAX, as_item, as_line, from_row, parse_question
from engagements.types.quiz.scoring import answer_points

QUESTION, REVEAL = "question", "reveal"
ANSWER = "answer"
FASTEST = 5  # the fastest correct answers the board views name


class Quiz(EngagementType):
    slug = "quiz"
    title = "Quiz"
    commands = frozenset({ANSWER})
    # An answer needs META, the player's own entry and the question's options: the cloud applies it
    # at a constant cost (it also reads the question: `partial_prompt`).
    partial_commands = frozenset({ANSWER})
    partial_prompt = True
    you_phases = frozenset({REVEAL})  # a phone's result: its rank among everyone's answers
    phases = (QUESTION, REVEAL)
    timers: ClassVar[dict[str, str]] = {QUESTION: "quiz_seconds"}
    prompt_hint = "one per line: Question | Option | *Correct option …, or Question | true (or false)"
    prompt_chars = LINE_MAX
    settings = (
        Setting(
            "quiz_seconds", "Seconds per question", INTEGER, 20, 5, 300, "seconds",
            "Faster correct answers score more: 1,000 points at once, 500 at the deadline.",
        ),
    )  # fmt: skip

    @property
    def static_dir(self) -> Path:
        return Path(__file__).parent / "static"

    def parse_prompt(self, raw: Any) -> dict[str, Any]:
        return parse_question(raw)

    # -- question packs --------------------------------------------------------------------------

    pack_suffixes = (".xlsx",)  # a Kahoot! quiz spreadsheet

    def csv_prompt(self, row: list[str], header: list[str] | None) -> Any:
        """With a header: the columns `question`, `a` to `f` and `answer`; without, the first column
        as a typed line."""
        if not header:
            return row[0] if row else ""
        return from_row(dict(zip(header, row, strict=False)))

    def pack_item(self, prompt: dict[str, Any]) -> Any:
        return as_item(prompt)

    def prompt_line(self, prompt: dict[str, Any]) -> str:
        return as_line(prompt)

    def read_pack_file(self, data: bytes, suffix: str) -> RawPack:
        # Imported here, not above: every Lambda function loads the types, and only an import reads xlsx.
        from engagements.types.quiz.kahoot import read_kahoot

        return read_kahoot(data, next(s for s in self.settings if s.name == self.timers[QUESTION]))

    def window(self, game: Game) -> int:
        """The question's time, ms: what an answer's speed is measured against."""
        return int(game.settings["quiz_seconds"]) * 1000

    # -- commands ------------------------------------------------------------------------------

    def decide(self, game: Game, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        player = cmd.actor.player or ""
        if not isinstance(cmd.fields.get("round"), int):
            raise Rejected("bad_message", "`round` must be the question's number.")
        if cmd.fields["round"] != game.round or game.phase != QUESTION:
            raise Rejected("stale", "This question has closed.")
        if game.deadline is not None and cmd.at > game.deadline:
            raise Rejected("stale", "Time is up.")
        if player in game.round_entries(game.round, ANSWER):
            raise Rejected("already_answered", "You have already answered this one.")
        choice = cmd.fields.get("choice")
        options = len(game.prompts[game.round]["options"])
        if not isinstance(choice, int) or isinstance(choice, bool) or not 0 <= choice < options:
            raise Rejected("no_such_option", f"`choice` must be an option's index, from 0 to {options - 1}.")
        opened = (game.deadline or cmd.at) - self.window(game)
        ms = min(max(cmd.at - opened, 0), self.window(game))
        entry = Entry(game.round, ANSWER, player, {"choice": choice, "ms": ms}, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry})], {}

    # -- phases --------------------------------------------------------------------------------

    def is_complete(self, game: Game) -> bool:
        return self.may_be_complete(game.phase, {ANSWER: len(self._answers(game))}, game.seated)

    def may_be_complete(self, phase: str, entered: dict[str, int], players: int) -> bool:
        """Everyone whose phone has connected has answered (`players` counts only those seats)."""
        return phase == QUESTION and players > 0 and entered.get(ANSWER, 0) >= players

    def close_phase(self, game: Game, at: int) -> list[Event]:
        if game.phase != QUESTION:
            return []
        scored = Event("round_scored", {"round": game.round, "points": self.score(game, game.round)})
        return [scored, phase_event(game, REVEAL, at, self)]

    def on_kick(self, game: Game, player: str) -> list[Event]:
        if game.phase != QUESTION or player not in self._answers(game):
            return []
        return [Event("entry_removed", {"round": game.round, "kind": ANSWER, "player": player})]

    # -- scores ----------------------------------------------------------------------------------

    def correct(self, game: Game, round: int, entry: Entry) -> bool:
        return entry.value["choice"] in game.prompts[round]["answer"]

    def streaks(self, game: Game, round: int) -> dict[str, int]:
        """Per player who answered `round` correctly: their correct answers in a row ending there.

        Computed from the entries and outcomes of the rounds before (a skipped one, and in a mixed
        game the rounds of other types, are passed over), and kept per round once it is scored:
        loading a game of a hundred rounds asks every round.
        """
        answers = game.round_entries(round, ANSWER)
        key = (round, len(answers), round in game.outcomes)
        cached = game.cache.get(("streaks", round))
        if cached is not None and cached[0] == key:
            return cached[1]
        before = max(
            (
                r
                for r, o in game.outcomes.items()
                if r < round and o == "scored" and game.round_type(r) == self.slug
            ),
            default=None,
        )
        previous = self.streaks(game, before) if before is not None else {}
        out = {p: previous.get(p, 0) + 1 for p, e in answers.items() if self.correct(game, round, e)}
        game.cache[("streaks", round)] = (key, out)
        return out

    def score(self, game: Game, round: int) -> dict[str, int]:
        streaks = self.streaks(game, round)
        window = self.window(game)
        return {
            p: answer_points(p in streaks, e.value["ms"], window, streaks.get(p, 0))
            for p, e in game.round_entries(round, ANSWER).items()
        }

    def results(self, game: Game, round: int) -> list[dict[str, Any]]:
        """Every answer's row, best first (points, then speed), ranked; ties share a rank."""
        answers = game.round_entries(round, ANSWER)
        key = (round, len(answers), round in game.outcomes)
        cached = game.cache.get(("results", round))
        if cached is not None and cached[0] == key:
            return cached[1]
        points, streaks = self.score(game, round), self.streaks(game, round)
        options = game.prompts[round]["options"]
        rows = [
            {
                "player": {"id": p, "nickname": game.players[p].nickname},
                "choice": e.value["choice"],
                "option": options[e.value["choice"]],
                "correct": p in streaks,
                "ms": e.value["ms"],
                "streak": streaks.get(p, 0),
                "points": points[p],
            }
            for p, e in answers.items()
        ]
        rows.sort(key=lambda row: (-row["points"], row["ms"], row["player"]["id"]))
        for i, row in enumerate(rows):
            same = i and rows[i - 1]["points"] == row["points"]
            row["rank"] = rows[i - 1]["rank"] if same else i + 1
        game.cache[("results", round)] = (key, rows, {row["player"]["id"]: row for row in rows})
        return rows

    def result_of(self, game: Game, round: int, player: str) -> dict[str, Any] | None:
        """One player's row, found without a search (every phone asks for its own)."""
        self.results(game, round)
        return game.cache[("results", round)][2].get(player)

    def export_rows(self, game: Game) -> list[dict[str, Any]]:
        def right(q: dict[str, Any]) -> str:
            return " / ".join(q["options"][i] for i in q["answer"])

        return [
            {
                "round": r + 1,
                "question": game.prompts[r]["text"],
                "correct_option": right(game.prompts[r]),
                "rank": row["rank"],
                "player": row["player"]["nickname"],
                "option": row["option"],
                "correct": row["correct"],
                "seconds": f"{row['ms'] / 1000:.3f}",
                "streak": row["streak"],
                "points": row["points"],
            }
            for r, outcome in sorted(game.outcomes.items())
            if outcome == "scored"
            for row in self.results(game, r)
        ]

    # -- views ---------------------------------------------------------------------------------

    def _answers(self, game: Game) -> dict[str, Entry]:
        return game.round_entries(game.round, ANSWER)

    def progress(self, game: Game) -> dict[str, Any]:
        return self.progress_of(game.round, game.phase, {ANSWER: len(self._answers(game))}, game.seated)

    def progress_of(self, round: int, phase: str, entered: dict[str, int], players: int) -> dict[str, Any]:
        return {"round": round, "answered": entered.get(ANSWER, 0), "eligible": players}

    def distribution(self, game: Game, round: int) -> list[int]:
        counts = [0] * len(game.prompts[round]["options"])
        for e in game.round_entries(round, ANSWER).values():
            counts[e.value["choice"]] += 1
        return counts

    def round_view(self, game: Game, audience: str) -> dict[str, Any]:
        """The question and its options; in the reveal also the correct options and the counts per
        option (and, for the board views, the fastest correct answers): sized by the question."""
        r = game.round
        question = game.prompts[r]
        view: dict[str, Any] = {
            "index": r,
            "phase": game.phase,
            "prompt": question["text"],
            "options": question["options"],
            "deadline": game.deadline,
            "window": self.window(game),
            **{k: v for k, v in self.progress(game).items() if k != "round"},
            "answer": None,
            "counts": None,
            "fastest": None,
        }
        if game.phase == REVEAL:
            view["answer"] = question["answer"]
            view["counts"] = self.distribution(game, r)
            if audience == BOARD:
                right = [row for row in self.results(game, r) if row["correct"]]
                view["fastest"] = [
                    {"nickname": row["player"]["nickname"], "ms": row["ms"]}
                    for row in heapq.nsmallest(FASTEST, right, key=lambda row: row["ms"])
                ]
        return view

    def partial_state(self, game: Game) -> dict[str, dict[str, Any]]:
        """In the reveal, each player's own result (its rank is among everyone's answers)."""
        if game.phase != REVEAL:
            return {}
        return {p.id: {"result": self._result(game, p.id)} for p in game.active_players()}

    def _result(self, game: Game, player: str) -> dict[str, Any] | None:
        row = self.result_of(game, game.round, player)
        return None if row is None else {k: row[k] for k in ("correct", "points", "streak", "ms", "rank")}

    def you_view(self, game: Game, player: str) -> dict[str, Any]:
        r, phase = game.round, game.phase
        entry = self._answers(game).get(player) if 0 <= r < len(game.prompts) else None
        own = {ANSWER: entry} if entry is not None else {}
        state = {"result": self._result(game, player)} if phase == REVEAL else None
        you = self.you_of(r, phase, own, state, {})
        assert you is not None, "the whole game has every player's result"
        return you

    def you_of(
        self,
        round: int,
        phase: str,
        own: Mapping[str, Entry],
        state: dict[str, Any] | None,
        counts: Mapping[str, int],
    ) -> dict[str, Any] | None:
        """Your choice this question; in the reveal, your result (correct, points, streak, time)."""
        you: dict[str, Any] = {"choice": None, "result": None}
        entry = own.get(ANSWER)
        if round < 0 or phase not in self.phases or entry is None:
            return you
        you["choice"] = entry.value["choice"]
        if phase == REVEAL:
            if state is None:
                return None  # a result not kept for this player
            you["result"] = state["result"]
        return you
