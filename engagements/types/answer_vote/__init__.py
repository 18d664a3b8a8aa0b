"""Answer, then vote: everyone answers a prompt in free text, then votes for the funniest answer.

Scoring (also in the README): 100 points per vote an answer receives; +100 to the answer with the
most votes (every answer tied at the top gets it); +200 more for a sweep, when one answer takes every
vote cast and at least three were cast.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any, ClassVar

from engagements.engine import phase_event
from engagements.model import Command, Entry, Event, Game, Rejected
from engagements.text import one_line
from engagements.types import EngagementType

QUESTION, VOTING, RESULTS = "question", "voting", "results"
ANSWER, VOTE = "answer", "vote"
ANSWER_MAX = 140
PROMPT_MAX = 200
POINTS_PER_VOTE = 100
TOP_BONUS = 100
SWEEP_BONUS = 200
SWEEP_MIN_VOTES = 3
VOTERS_SHOWN = 12


def round_points(votes_by_author: dict[str, int]) -> dict[str, int]:
    """The scoring rule: votes received per author in, points per author out."""
    cast = sum(votes_by_author.values())
    top = max(votes_by_author.values(), default=0)
    points = {}
    for author, votes in votes_by_author.items():
        pts = POINTS_PER_VOTE * votes
        if votes and votes == top:
            pts += TOP_BONUS
            if votes == cast >= SWEEP_MIN_VOTES:
                pts += SWEEP_BONUS
        points[author] = pts
    return points


def option_id(game: Game, round: int, player: str) -> str:
    """An answer's id in the vote: stable across restarts, and says nothing about its author."""
    digest = hmac.new(game.secret.encode(), f"{round}:{player}".encode(), hashlib.sha256).digest()
    return "o" + base64.b32encode(digest[:10]).decode().lower()


class AnswerVote(EngagementType):
    slug = "answer-vote"
    title = "Answer, then vote"
    commands = frozenset({ANSWER, VOTE})
    phases = (QUESTION, VOTING, RESULTS)
    timers: ClassVar[dict[str, str]] = {QUESTION: "question_seconds", VOTING: "vote_seconds"}
    defaults: ClassVar[dict[str, int]] = {"question_seconds": 60, "vote_seconds": 45}

    @property
    def static_dir(self) -> Path:
        return Path(__file__).parent / "static"

    def parse_prompt(self, raw: Any) -> dict[str, Any]:
        if isinstance(raw, dict):
            raw = raw.get("prompt", raw.get("text"))
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("each prompt must be a non-empty text")
        text = " ".join(raw.split())
        if len(text) > PROMPT_MAX:
            raise ValueError(f"prompts are at most {PROMPT_MAX} characters: {text[:40]}…")
        return {"text": text}

    # -- commands ------------------------------------------------------------------------------

    def decide(self, game: Game, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        player = cmd.actor.player or ""
        if cmd.type == ANSWER:
            self._expect(game, cmd, QUESTION, "This question has closed.")
            if player in game.round_entries(game.round, ANSWER):
                raise Rejected("already_answered", "You have already answered this one.")
            text = clean_answer(cmd.fields.get("text"))
            option = option_id(game, game.round, player)
            entry = Entry(game.round, ANSWER, player, {"text": text, "option": option}, cmd.at, cmd.id)
            return [Event("entry_added", {"entry": entry})], {"option": option}
        self._expect(game, cmd, VOTING, "Voting on this question has closed.")
        if player in game.round_entries(game.round, VOTE):
            raise Rejected("already_voted", "You have already voted.")
        option = cmd.fields.get("option")
        if not isinstance(option, str):
            raise Rejected("bad_message", "`option` must be an option id.")
        author = game.options.get(game.round, {}).get(option)
        if author is None:
            raise Rejected("no_such_option", "That answer is not in this vote.")
        if author == player:
            raise Rejected("own_answer", "You cannot vote for your own answer.")
        entry = Entry(game.round, VOTE, player, {"for": option}, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry})], {}

    @staticmethod
    def _expect(game: Game, cmd: Command, phase: str, closed: str) -> None:
        if not isinstance(cmd.fields.get("round"), int):
            raise Rejected("bad_message", "`round` must be the round number.")
        if cmd.fields["round"] != game.round or game.phase != phase:
            raise Rejected("stale", closed)
        if game.deadline is not None and cmd.at > game.deadline:
            raise Rejected("stale", "Time is up.")

    def ack(self, entry: Entry) -> dict[str, Any]:
        return {"option": entry.value["option"]} if entry.kind == ANSWER else {}

    # -- phases --------------------------------------------------------------------------------

    def _eligible(self, game: Game) -> int:
        """Who can still act: everyone answers; everyone votes who has an answer not their own."""
        if game.phase == QUESTION:
            return game.active
        if game.phase == VOTING:
            answers = game.round_entries(game.round, ANSWER)
            if len(answers) >= 2:
                return game.active
            return game.active - len(answers) if answers else 0
        return 0

    def is_complete(self, game: Game) -> bool:
        if game.phase == QUESTION:
            done = len(game.round_entries(game.round, ANSWER))
        elif game.phase == VOTING:
            done = len(game.round_entries(game.round, VOTE))
        else:
            return False
        eligible = self._eligible(game)
        return eligible > 0 and done >= eligible

    def close_phase(self, game: Game, at: int) -> list[Event]:
        if game.phase == QUESTION:
            answers = game.round_entries(game.round, ANSWER)
            voters = len(answers) >= 2 or (len(answers) == 1 and game.active > 1)
            if voters:
                return [phase_event(game, VOTING, at, self)]
        scored = Event("round_scored", {"round": game.round, "points": self.score(game, game.round)})
        return [scored, phase_event(game, RESULTS, at, self)]

    def on_kick(self, game: Game, player: str) -> list[Event]:
        """A kicked player's answer leaves the vote (votes for it are given back) with their own vote."""
        if game.phase not in (QUESTION, VOTING):
            return []
        r = game.round
        removed = []
        answer = game.round_entries(r, ANSWER).get(player)
        if answer is not None:
            removed.append((ANSWER, player))
            option = answer.value["option"]
            removed += [
                (VOTE, v.player) for v in game.round_entries(r, VOTE).values() if v.value["for"] == option
            ]
        if player in game.round_entries(r, VOTE) and (VOTE, player) not in removed:
            removed.append((VOTE, player))
        return [Event("entry_removed", {"round": r, "kind": k, "player": p}) for k, p in removed]

    def score(self, game: Game, round: int) -> dict[str, int]:
        return round_points(self._votes_by_author(game, round))

    @staticmethod
    def _votes_by_author(game: Game, round: int) -> dict[str, int]:
        authors = game.options.get(round, {})
        counts = dict.fromkeys(authors.values(), 0)
        for vote in game.round_entries(round, VOTE).values():
            author = authors.get(vote.value["for"])
            if author is not None:
                counts[author] += 1
        return counts

    # -- views ---------------------------------------------------------------------------------

    def progress(self, game: Game) -> dict[str, Any]:
        return {
            "round": game.round,
            "answered": len(game.round_entries(game.round, ANSWER)),
            "voted": len(game.round_entries(game.round, VOTE)),
            "eligible": self._eligible(game),
        }

    def round_view(self, game: Game) -> dict[str, Any]:
        r = game.round
        answers = game.round_entries(r, ANSWER)
        view: dict[str, Any] = {
            "index": r,
            "phase": game.phase,
            "prompt": game.prompts[r]["text"],
            "deadline": game.deadline,
            **{k: v for k, v in self.progress(game).items() if k != "round"},
            "options": None,
            "results": None,
        }
        if game.phase in (VOTING, RESULTS):
            view["options"] = sorted(
                ({"id": a.value["option"], "text": a.value["text"]} for a in answers.values()),
                key=lambda o: o["id"],
            )
        if game.phase == RESULTS:
            view["results"] = self._results(game, r)
        return view

    def _results(self, game: Game, r: int) -> list[dict[str, Any]]:
        answers = game.round_entries(r, ANSWER)
        voters: dict[str, list[str]] = {a.value["option"]: [] for a in answers.values()}
        for vote in game.round_entries(r, VOTE).values():
            if vote.value["for"] in voters:
                voters[vote.value["for"]].append(game.players[vote.player].nickname)
        points = self.score(game, r)
        rows = [
            {
                "option": a.value["option"],
                "text": a.value["text"],
                "author": {"id": a.player, "nickname": game.players[a.player].nickname},
                "votes": len(voters[a.value["option"]]),
                "voters": sorted(voters[a.value["option"]])[:VOTERS_SHOWN],
                "points": points.get(a.player, 0),
            }
            for a in answers.values()
        ]
        return sorted(rows, key=lambda row: (-row["votes"], row["option"]))

    def you_view(self, game: Game, player: str) -> dict[str, Any]:
        if game.round < 0 or game.round >= len(game.prompts):
            return {"answer_option": None, "vote": None}
        answer = game.round_entries(game.round, ANSWER).get(player)
        vote = game.round_entries(game.round, VOTE).get(player)
        return {
            "answer_option": answer.value["option"] if answer else None,
            "vote": vote.value["for"] if vote else None,
        }


def clean_answer(raw: Any) -> str:
    return one_line(raw, ANSWER_MAX, "answer")
