"""Answer, then vote: everyone answers a prompt in free text, then votes for the funniest answer.

In a large room each voter gets a ballot of a few answers (ballots.py) and votes are weighed by how
often an answer was shown (scoring.py). What each view is told is sized by the view, never by the
number of players: a phone gets its ballot and its own result, the board views (big screen, host) a
showcase and the best results, and the host pages through the rest.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from engagements.engine import phase_event
from engagements.model import BOARD, Command, Entry, Event, Game, Rejected
from engagements.settings import INTEGER, Setting
from engagements.text import one_line
from engagements.types import EngagementType
from engagements.types.answer_vote.ballots import Ballots
from engagements.types.answer_vote.scoring import round_points

QUESTION, VOTING, RESULTS = "question", "voting", "results"
ANSWER, VOTE = "answer", "vote"
ANSWER_MAX = 140
PROMPT_MAX = 200
VOTERS_SHOWN = 12
SHOWCASE = 24  # answers the board views get while a vote runs
BOARD_RESULTS = 8  # result rows the board views get (the big screen reveals them, best last)
PHONE_RESULTS = 3  # result rows a phone gets, besides its own


def option_id(game: Game, round: int, player: str) -> str:
    """An answer's id in the vote: stable across restarts, and says nothing about its author."""
    digest = hmac.digest(game.secret.encode(), f"{round}:{player}".encode(), "sha256")
    return "o" + base64.b32encode(digest[:10]).decode().lower()


class AnswerVote(EngagementType):
    slug = "answer-vote"
    title = "Answer, then vote"
    commands = frozenset({ANSWER, VOTE})
    partial_commands = frozenset({ANSWER, VOTE})
    partial_phases = frozenset({VOTING})  # a vote needs the voter's ballot, drawn from the whole round
    you_phases = frozenset({VOTING, RESULTS})  # a phone's ballot and its result need the whole round
    phases = (QUESTION, VOTING, RESULTS)
    timers: ClassVar[dict[str, str]] = {QUESTION: "question_seconds", VOTING: "vote_seconds"}
    prompt_chars = PROMPT_MAX
    settings = (
        Setting("question_seconds", "Seconds to answer", INTEGER, 60, 5, 600, "seconds"),
        Setting("vote_seconds", "Seconds to vote", INTEGER, 45, 5, 600, "seconds"),
    )
    default = True

    @property
    def static_dir(self) -> Path:
        return Path(__file__).parent / "static"

    def parse_prompt(self, raw: Any) -> dict[str, Any]:
        if isinstance(raw, dict):
            raw = raw.get("prompt", raw.get("text"))
        return {"text": one_line(raw, PROMPT_MAX, "prompt")}

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
        ballot, used = self._ballot_of(game, player, option)
        value: dict[str, Any] = {"for": option}
        if used:
            if option not in ballot:
                raise Rejected("not_on_ballot", "That answer is not on your ballot.")
            value["ballot"] = ballot  # kept with the vote: the round's exposure is recomputed from it
        entry = Entry(game.round, VOTE, player, value, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry})], {}

    def _ballot_of(self, game: Game, player: str, option: str) -> tuple[list[str], bool]:
        """The voter's ballot and whether ballots are used; raises for an option they cannot choose.

        A whole game draws it; a partial one (the cloud) has it from `partial_state`, kept since the
        vote opened, which names the authors of the voter's own answer and ballot only: there an
        option that is neither is `not_on_ballot` (or `no_such_option` without ballots).
        """
        seeded = game.cache.get(("ballot", game.round, player))
        if seeded is not None:
            authors = {o: a for o, a, _ in seeded["ballot"]}
            if option == seeded["own"]:
                raise Rejected("own_answer", "You cannot vote for your own answer.")
            if option not in authors and not seeded["used"]:
                raise Rejected("no_such_option", "That answer is not in this vote.")
            return list(authors), seeded["used"]
        author = game.options.get(game.round, {}).get(option)
        if author is None:
            raise Rejected("no_such_option", "That answer is not in this vote.")
        if author == player:
            raise Rejected("own_answer", "You cannot vote for your own answer.")
        ballots = self.ballots(game, game.round)
        return (ballots.ballot(player) if ballots.used else []), ballots.used

    def partial_state(self, game: Game) -> dict[str, dict[str, Any]]:
        """In a vote, each voter's ballot (with its authors, for the vote, and its texts, for the
        phone) and their own option; in the results, each player's own result."""
        if game.phase not in (VOTING, RESULTS):
            return {}
        return {p.id: self._private(game, p.id) for p in game.active_players()}

    def _private(self, game: Game, player: str) -> dict[str, Any]:
        """What `partial_state` keeps for one player (cached draws and results: a room costs O(N))."""
        r = game.round
        if game.phase == VOTING:
            ballots = self.ballots(game, r)
            authors = game.options.get(r, {})
            return {
                "ballot": [[o, authors[o], self._text(game, r, o)] for o in ballots.ballot(player)],
                "own": ballots.own.get(player),
                "used": ballots.used,
            }
        answer = game.round_entries(r, ANSWER).get(player)
        row = self.result_of(game, r, answer.value["option"]) if answer is not None else None
        return {"result": _phone_row(row) if row else None}

    def restore_partial(self, game: Game, player: str, state: dict[str, Any]) -> None:
        game.cache[("ballot", game.round, player)] = state

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

    # -- ballots and scores --------------------------------------------------------------------

    def ballots(self, game: Game, round: int) -> Ballots:
        """The round's ballots, drawn again only when its answers or its players change."""
        authors = game.options.get(round, {})
        key = ("ballots", round, len(authors), len(game.players), game.active)
        cached = game.cache.get("ballots")
        if cached is None or cached[0] != key:
            voters = [p.id for p in sorted(game.active_players(), key=lambda p: (p.joined_at, p.id))]
            cached = (key, Ballots.draw(authors, voters))
            game.cache["ballots"] = cached
        return cached[1]

    def score(self, game: Game, round: int) -> dict[str, int]:
        votes, shown = self._tally(game, round)
        return round_points(votes, shown)

    @staticmethod
    def _tally(game: Game, round: int) -> tuple[dict[str, int], dict[str, int] | None]:
        """Votes per author, and the ballots of the round's voters each author's answer was on
        (None when nobody needed a ballot: every voter saw every answer)."""
        authors = game.options.get(round, {})
        votes = dict.fromkeys(authors.values(), 0)
        cast = game.round_entries(round, VOTE).values()
        for vote in cast:
            author = authors.get(vote.value["for"])
            if author is not None:
                votes[author] += 1
        if not any("ballot" in vote.value for vote in cast):
            return votes, None
        shown = dict.fromkeys(authors.values(), 0)
        for vote in cast:
            # A vote cast after a kick left too few answers for ballots saw every answer.
            seen = vote.value.get("ballot", authors)
            for author in (authors[o] for o in seen if o in authors):
                shown[author] += author != vote.player
        return votes, shown

    def results(self, game: Game, round: int) -> list[dict[str, Any]]:
        """Every answer's result row, best first, ranked (ties share a rank); computed once per round."""
        answers = game.round_entries(round, ANSWER)
        key = ("results", round, len(answers), len(game.round_entries(round, VOTE)))
        cached = game.cache.get(key[:2])
        if cached is not None and cached[0] == key:
            return cached[1]
        return self._rank(game, round, key)

    def result_of(self, game: Game, round: int, option: str) -> dict[str, Any] | None:
        """One answer's result row, found without a search (every phone asks for its own)."""
        rows = self.results(game, round)
        return game.cache[("results", round)][2].get(option) if rows else None

    def _rank(self, game: Game, round: int, key: tuple[Any, ...]) -> list[dict[str, Any]]:
        answers = game.round_entries(round, ANSWER)
        votes, shown = self._tally(game, round)
        points = round_points(votes, shown)
        cast = len(game.round_entries(round, VOTE))
        voters: dict[str, list[str]] = {a.value["option"]: [] for a in answers.values()}
        for vote in game.round_entries(round, VOTE).values():
            names = voters.get(vote.value["for"])
            if names is not None and len(names) < VOTERS_SHOWN:
                names.append(game.players[vote.player].nickname)
        rows = [
            {
                "option": a.value["option"],
                "text": a.value["text"],
                "author": {"id": a.player, "nickname": game.players[a.player].nickname},
                "votes": votes.get(a.player, 0),
                "shown": shown.get(a.player, 0)
                if shown is not None
                else cast - (a.player in game.round_entries(round, VOTE)),
                "points": points.get(a.player, 0),
                "voters": sorted(voters[a.value["option"]]),
            }
            for a in answers.values()
        ]
        rows.sort(key=lambda row: (-row["points"], -row["votes"], row["option"]))
        for i, row in enumerate(rows):
            same = i and rows[i - 1]["points"] == row["points"]
            row["rank"] = rows[i - 1]["rank"] if same else i + 1
        game.cache[key[:2]] = (key, rows, {row["option"]: row for row in rows})
        return rows

    def export_rows(self, game: Game) -> list[dict[str, Any]]:
        out = []
        for r, outcome in sorted(game.outcomes.items()):
            if outcome != "scored":
                continue
            for row in self.results(game, r):
                out.append(
                    {
                        "round": r + 1,
                        "prompt": game.prompts[r]["text"],
                        "rank": row["rank"],
                        "answer": row["text"],
                        "author": row["author"]["nickname"],
                        "votes": row["votes"],
                        "shown": row["shown"],
                        "points": row["points"],
                    }
                )
        return out

    # -- phases --------------------------------------------------------------------------------

    @staticmethod
    def eligible(phase: str, answers: int, players: int) -> int:
        """Who can act: everyone answers; everyone votes who has an answer not their own.

        `players` counts only seats that have been used (`Game.seated`, the cloud's SEATED counter):
        a join whose phone never connected (a lost reply, a script) must not hold every round open
        until its deadline.
        """
        if phase == QUESTION:
            return players
        if phase == VOTING:
            return players if answers >= 2 else players - answers if answers else 0
        return 0

    def _entered(self, game: Game) -> dict[str, int]:
        return {k: len(game.round_entries(game.round, k)) for k in (ANSWER, VOTE)}

    def is_complete(self, game: Game) -> bool:
        return self.may_be_complete(game.phase, self._entered(game), game.seated)

    def may_be_complete(self, phase: str, entered: dict[str, int], players: int) -> bool:
        if phase not in (QUESTION, VOTING):
            return False
        eligible = self.eligible(phase, entered.get(ANSWER, 0), players)
        return eligible > 0 and entered.get(ANSWER if phase == QUESTION else VOTE, 0) >= eligible

    def close_phase(self, game: Game, at: int) -> list[Event]:
        if game.phase == QUESTION:
            answers = game.round_entries(game.round, ANSWER)
            voters = len(answers) >= 2 or (len(answers) == 1 and game.seated > 1)
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

    # -- views ---------------------------------------------------------------------------------

    def progress(self, game: Game) -> dict[str, Any]:
        return self.progress_of(game.round, game.phase, self._entered(game), game.seated)

    def progress_of(self, round: int, phase: str, entered: dict[str, int], players: int) -> dict[str, Any]:
        return {
            "round": round,
            "answered": entered.get(ANSWER, 0),
            "voted": entered.get(VOTE, 0),
            "eligible": self.eligible(phase, entered.get(ANSWER, 0), players),
        }

    def round_view(self, game: Game, audience: str) -> dict[str, Any]:
        r = game.round
        answers = game.round_entries(r, ANSWER)
        view: dict[str, Any] = {
            "index": r,
            "phase": game.phase,
            "prompt": game.prompts[r]["text"],
            "deadline": game.deadline,
            **{k: v for k, v in self.progress(game).items() if k != "round"},
            "answers": None,
            "ballots": False,
            "options": None,
            "results": None,
            "more": None,
        }
        if game.phase in (VOTING, RESULTS):
            view["answers"] = len(answers)
            view["ballots"] = self.ballots(game, r).used
            if audience == BOARD:
                showcase = sorted(game.options.get(r, {}))[:SHOWCASE]
                view["options"] = [{"id": o, "text": self._text(game, r, o)} for o in showcase]
        if game.phase == RESULTS:
            rows = self.results(game, r)
            if audience == BOARD:
                view["results"] = rows[:BOARD_RESULTS]
            else:
                view["results"] = [_phone_row(row) for row in rows[:PHONE_RESULTS]]
            view["more"] = max(0, len(rows) - len(view["results"]))
        return view

    @staticmethod
    def _text(game: Game, round: int, option: str) -> str:
        return game.round_entries(round, ANSWER)[game.options[round][option]].value["text"]

    def you_view(self, game: Game, player: str) -> dict[str, Any]:
        r, phase = game.round, game.phase
        own = {k: e for k in (ANSWER, VOTE) if (e := game.round_entries(r, k).get(player)) is not None}
        in_round = 0 <= r < len(game.prompts) and phase in self.you_phases
        you = self.you_of(r, phase, own, self._private(game, player) if in_round else None, {})
        assert you is not None, "the whole game has every player's state"
        return you

    def you_of(
        self,
        round: int,
        phase: str,
        own: Mapping[str, Entry],
        state: dict[str, Any] | None,
        counts: Mapping[str, int],
    ) -> dict[str, Any] | None:
        """Your answer's option and your vote; in a vote, your ballot; in the results, your result."""
        you: dict[str, Any] = {"answer_option": None, "vote": None, "ballot": None, "result": None}
        if round < 0 or phase not in self.phases:
            return you
        answer, vote = own.get(ANSWER), own.get(VOTE)
        you["answer_option"] = answer.value["option"] if answer else None
        you["vote"] = vote.value["for"] if vote else None
        if phase == VOTING or (phase == RESULTS and answer is not None):
            if state is None:
                return None  # a ballot or a result not kept for this player
            if phase == VOTING:
                you["ballot"] = [{"id": o, "text": text} for o, _, text in state["ballot"]]
            else:
                you["result"] = state["result"]
        return you


def _phone_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "voters"}


def clean_answer(raw: Any) -> str:
    return one_line(raw, ANSWER_MAX, "answer")
