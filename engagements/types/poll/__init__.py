"""Poll: the audience picks one option (or several, in a multiple-choice question) and sees the counts.

No points and no winners: a round is scored with no points, so the leaderboard stays as it was, and no
view names who chose what (a vote's entry keeps its player only so that each player votes once). The
board views see live bars from `progress`, coalesced by the core like every round's counts; in the
cloud those counts are META's counters, one per option (`tallies`), so a vote's cost does not grow
with the room.

A vote is final once sent: a multiple-choice vote sends all its choices in one command (the phone
has a submit button), so one entry per player and one counter per option are all it takes, and a
changed mind never has to move a counter back.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from engagements.engine import fold, phase_event
from engagements.model import BOARD, Command, Entry, Event, Game, Rejected
from engagements.settings import INTEGER, Setting
from engagements.text import one_line
from engagements.types import EngagementType

OPEN, RESULTS = "open", "results"
VOTE = "vote"
QUESTION_MAX = 140
OPTION_MAX = 60
MIN_OPTIONS, MAX_OPTIONS = 2, 8  # eight bars fit a projector and a phone without scrolling
MULTIPLE = "Multiple:"  # a typed line that starts so is a multiple-choice question
SEPARATOR = "|"  # between a typed line's question and options, so never in their text
YES = frozenset({"yes", "y", "true", "1", "x"})  # a CSV pack's `multiple` column


def tally(option: int) -> str:
    """The counter of one option's votes (a name of `EngagementType.tallies`)."""
    return f"{VOTE}#{option}"


class Poll(EngagementType):
    slug = "poll"
    title = "Poll"
    keeps_score = False
    commands = frozenset({VOTE})
    partial_commands = frozenset({VOTE})  # decided from the sender's own items and the round's prompt
    partial_prompt = True  # the options a vote may name
    phases = (OPEN, RESULTS)
    timers: ClassVar[dict[str, str]] = {OPEN: "vote_seconds"}
    prompt_hint = "one per line: Question | Option | Option …, and Multiple: before one that takes several"
    prompt_chars = len(MULTIPLE) + QUESTION_MAX + MAX_OPTIONS * (OPTION_MAX + 3)
    settings = (
        Setting(
            "vote_seconds", "Seconds to vote", INTEGER, 45, 5, 600, "seconds",
            "The host can close a question earlier; it closes by itself once everyone has voted.",
        ),
    )  # fmt: skip

    @property
    def static_dir(self) -> Path:
        return Path(__file__).parent / "static"

    # -- questions -----------------------------------------------------------------------------

    def parse_prompt(self, raw: Any) -> dict[str, Any]:
        """A question from an object {"question", "options", "multiple"} (a JSON pack) or from one
        typed line, `Question | Option | Option …`, with `Multiple:` before a multiple-choice one."""
        if isinstance(raw, str):
            line = raw.strip()
            multiple = line.lower().startswith(MULTIPLE.lower())
            parts = line[len(MULTIPLE) if multiple else 0 :].split(SEPARATOR)
            raw = {"question": parts[0], "options": parts[1:], "multiple": multiple}
        if not isinstance(raw, dict):
            raise Rejected("invalid", "A poll question is text or an object with a question and options.")
        question = one_line(raw.get("question", raw.get("text", raw.get("prompt"))), QUESTION_MAX, "question")
        options = raw.get("options")
        if not isinstance(options, list):
            raise Rejected("invalid", "A poll question needs a list of options (Question | A | B).")
        options = [one_line(o, OPTION_MAX, f"option {n}") for n, o in enumerate(options, 1)]
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            raise Rejected("invalid", f"A poll question has {MIN_OPTIONS} to {MAX_OPTIONS} options.")
        if len({fold(o) for o in options}) < len(options):
            raise Rejected("invalid", "Two options of the question are the same.")
        if any(SEPARATOR in text for text in (question, *options)):
            raise Rejected("invalid", f"A poll's question and options cannot hold {SEPARATOR}.")
        multiple = raw.get("multiple", False)
        if not isinstance(multiple, bool):
            raise Rejected("invalid", "`multiple` must be true or false.")
        return {"text": question, "options": options, "multiple": multiple}

    def prompt_line(self, prompt: dict[str, Any]) -> str:
        line = f" {SEPARATOR} ".join([prompt["text"], *prompt["options"]])
        return f"{MULTIPLE} {line}" if prompt["multiple"] else line

    def csv_prompt(self, row: list[str], header: list[str] | None) -> Any:
        """With a header: the columns `question`, `option 1` … `option 8` (any column whose name
        starts with "option") and `multiple` (yes or no); without, the question then its options,
        as a typed line."""
        if not header:
            return f" {SEPARATOR} ".join(cell.strip() for cell in row if cell.strip())
        cells = dict(zip(header, row, strict=False))
        question = next((cells[n] for n in ("question", "prompt", "text") if n in cells), "")
        options = [
            cell
            for name, cell in zip(header, row, strict=False)
            if name.startswith("option") and cell.strip()
        ]
        return {
            "question": question,
            "options": options,
            "multiple": cells.get("multiple", "").strip().lower() in YES,
        }

    # -- votes ---------------------------------------------------------------------------------

    def decide(self, game: Game, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        player = cmd.actor.player or ""
        if not isinstance(cmd.fields.get("round"), int):
            raise Rejected("bad_message", "`round` must be the round number.")
        if cmd.fields["round"] != game.round or game.phase != OPEN:
            raise Rejected("stale", "This question has closed.")
        if game.deadline is not None and cmd.at > game.deadline:
            raise Rejected("stale", "Time is up.")
        if player in game.round_entries(game.round, VOTE):
            raise Rejected("already_voted", "You have already voted.")
        choices = self._choices(game.prompts[game.round], cmd.fields.get("choices"))
        entry = Entry(game.round, VOTE, player, {"choices": choices}, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry})], {"choices": choices}

    @staticmethod
    def _choices(prompt: dict[str, Any], raw: Any) -> list[int]:
        """The options a vote names, in order; one for a single-choice question, at least one else."""
        count = len(prompt["options"])
        if not isinstance(raw, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in raw):
            raise Rejected("bad_message", "`choices` must be a list of option numbers.")
        if not raw or len(set(raw)) < len(raw) or not all(0 <= c < count for c in raw):
            raise Rejected("invalid", f"Choose options from 0 to {count - 1}, each once.")
        if len(raw) > 1 and not prompt["multiple"]:
            raise Rejected("invalid", "This question takes one choice.")
        return sorted(raw)

    def ack(self, entry: Entry) -> dict[str, Any]:
        return {"choices": entry.value["choices"]}

    def tallies(self, entry: Entry) -> tuple[str, ...]:
        return tuple(tally(c) for c in entry.value["choices"])

    # -- phases --------------------------------------------------------------------------------

    def may_be_complete(self, phase: str, entered: dict[str, int], players: int) -> bool:
        return phase == OPEN and players > 0 and entered.get(VOTE, 0) >= players

    def is_complete(self, game: Game) -> bool:
        """Everyone seated has voted (a kicked player's vote, still counted, stands for nobody)."""
        votes = game.round_entries(game.round, VOTE)
        if not self.may_be_complete(game.phase, {VOTE: len(votes)}, game.seated):
            return False  # the usual answer, without a look at each vote
        return sum(not game.players[p].kicked for p in votes) >= game.seated

    def close_phase(self, game: Game, at: int) -> list[Event]:
        scored = Event("round_scored", {"round": game.round, "points": {}})  # counted, never scored
        return [scored, phase_event(game, RESULTS, at, self)]

    def on_kick(self, game: Game, player: str) -> list[Event]:
        """A kicked player's vote stays counted: it was cast before the kick, and nobody can tell
        which one it was (the counters of the cloud only ever go up)."""
        return []

    def score(self, game: Game, round: int) -> dict[str, int]:
        return {}

    # -- counts --------------------------------------------------------------------------------

    def _counts(self, game: Game, round: int) -> dict[str, int]:
        """The round's counts as the cloud keeps them on META: votes, and each option's tally."""
        votes = game.round_entries(round, VOTE)
        key = ("counts", round, len(votes))
        cached = game.cache.get("counts")
        if cached is None or cached[0] != key:
            counts = {VOTE: len(votes)}
            for entry in votes.values():
                for name in self.tallies(entry):
                    counts[name] = counts.get(name, 0) + 1
            cached = (key, counts)
            game.cache["counts"] = cached
        return cached[1]

    def progress(self, game: Game) -> dict[str, Any]:
        return self.progress_of(game.round, game.phase, self._counts(game, game.round), game.seated)

    def progress_of(self, round: int, phase: str, entered: dict[str, int], players: int) -> dict[str, Any]:
        """`counts`: votes per option, in the options' order, up to the last option anyone chose."""
        counts = [entered.get(tally(i), 0) for i in range(MAX_OPTIONS)]
        while counts and not counts[-1]:
            counts.pop()
        return {"round": round, "voted": entered.get(VOTE, 0), "eligible": players, "counts": counts}

    def results(self, game: Game, round: int) -> list[dict[str, Any]]:
        """Every option with its votes and its share of the voters, most chosen first (ties share a
        rank, in the options' order)."""
        prompt = game.prompts[round]
        counts = self._counts(game, round)
        voters = counts[VOTE]
        rows = [
            {"option": i, "text": text, "votes": counts.get(tally(i), 0)}
            for i, text in enumerate(prompt["options"])
        ]
        for row in rows:
            row["percent"] = round_percent(row["votes"], voters)
        rows.sort(key=lambda row: (-row["votes"], row["option"]))
        for i, row in enumerate(rows):
            row["rank"] = rows[i - 1]["rank"] if i and rows[i - 1]["votes"] == row["votes"] else i + 1
        return rows

    def export_rows(self, game: Game) -> list[dict[str, Any]]:
        """Counts only: the CSV says how many chose each option, never who."""
        return [
            {
                "round": r + 1,
                "question": game.prompts[r]["text"],
                "multiple": "yes" if game.prompts[r]["multiple"] else "no",
                "option": row["text"],
                "votes": row["votes"],
                "voters": self._counts(game, r)[VOTE],
                "percent": row["percent"],
            }
            for r, outcome in sorted(game.outcomes.items())
            if outcome == "scored"
            for row in sorted(self.results(game, r), key=lambda row: row["option"])
        ]

    # -- views ---------------------------------------------------------------------------------

    def round_view(self, game: Game, audience: str) -> dict[str, Any]:
        """The question, its options and the counts: the board views see them live, the phones once
        the question has closed (until then a phone's vote is its own)."""
        r = game.round
        prompt = game.prompts[r]
        view = {
            "index": r,
            "phase": game.phase,
            "prompt": prompt["text"],
            "options": prompt["options"],
            "multiple": prompt["multiple"],
            "deadline": game.deadline,
        }
        return self.counted(view, self.progress(game), audience)

    def counted(self, view: dict[str, Any], progress: dict[str, Any], audience: str) -> dict[str, Any]:
        shown = audience == BOARD or view["phase"] == RESULTS
        return {
            **view,
            "voted": progress["voted"],
            "eligible": progress["eligible"],
            "counts": progress["counts"] if shown else None,
        }

    def you_view(self, game: Game, player: str) -> dict[str, Any]:
        vote = game.round_entries(game.round, VOTE).get(player)
        return self.you_of(game.round, game.phase, {VOTE: vote} if vote else {}, None, {})

    def you_of(
        self,
        round: int,
        phase: str,
        own: Mapping[str, Entry],
        state: dict[str, Any] | None,
        counts: Mapping[str, int],
    ) -> dict[str, Any]:
        """The player's own choices in this round (shown to nobody else)."""
        if round < 0 or phase not in self.phases:
            return {"choices": None}
        vote = own.get(VOTE)
        return {"choices": vote.value["choices"] if vote else None}


def round_percent(votes: int, voters: int) -> int:
    """A whole-number share of the voters (half up), 0 with none; multiple-choice shares may sum past 100."""
    return (votes * 200 + voters) // (voters * 2) if voters else 0
