"""Pick a number: everyone picks a whole number; the lowest number nobody else picked wins the round.

A type from outside the appliance, in its own package: it uses only the core's public parts (the
type interface, the model, settings, phase events) and ships its browser module in static/round.js.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from engagements.engine import phase_event
from engagements.model import Command, Entry, Event, Game, Rejected
from engagements.settings import INTEGER, Setting
from engagements.text import one_line
from engagements.types import EngagementType

PICKING, REVEAL = "picking", "reveal"
PICK = "pick"
WIN = 100


class PickANumber(EngagementType):
    slug = "pick-a-number"
    title = "Pick a number"
    commands = frozenset({PICK})
    phases = (PICKING, REVEAL)
    timers: ClassVar[dict[str, str]] = {PICKING: "pick_seconds"}
    settings = (
        Setting("pick_seconds", "Seconds to pick", INTEGER, 30, 5, 120, "seconds"),
        Setting("highest", "Highest number", INTEGER, 10, 2, 100, help="Players pick from 1 to this."),
    )

    @property
    def static_dir(self) -> Path:
        return Path(__file__).parent / "static"

    def parse_prompt(self, raw: Any) -> dict[str, Any]:
        return {"text": one_line(raw, 200, "prompt")}

    def decide(self, game: Game, cmd: Command) -> tuple[list[Event], dict[str, Any]]:
        player = cmd.actor.player or ""
        if cmd.fields.get("round") != game.round or game.phase != PICKING:
            raise Rejected("stale", "Picking has closed.")
        if player in game.round_entries(game.round, PICK):
            raise Rejected("invalid", "You have picked already.")
        number = cmd.fields.get("number")
        highest = game.settings["highest"]
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= highest:
            raise Rejected("invalid", f"Pick a whole number from 1 to {highest}.")
        entry = Entry(game.round, PICK, player, {"number": number}, cmd.at, cmd.id)
        return [Event("entry_added", {"entry": entry})], {}

    def is_complete(self, game: Game) -> bool:
        picked = len(game.round_entries(game.round, PICK))
        return game.phase == PICKING and game.seated > 0 and picked >= game.seated

    def close_phase(self, game: Game, at: int) -> list[Event]:
        points = self.score(game, game.round)
        return [
            Event("round_scored", {"round": game.round, "points": points}),
            phase_event(game, REVEAL, at, self),
        ]

    def on_kick(self, game: Game, player: str) -> list[Event]:
        if game.phase != PICKING or player not in game.round_entries(game.round, PICK):
            return []
        return [Event("entry_removed", {"round": game.round, "kind": PICK, "player": player})]

    def _winner(self, game: Game, round: int) -> tuple[int, str] | None:
        """The lowest number picked once, and who picked it."""
        picks = game.round_entries(round, PICK)
        counts = Counter(e.value["number"] for e in picks.values())
        unique = sorted(n for n, c in counts.items() if c == 1)
        if not unique:
            return None
        return unique[0], next(p for p, e in picks.items() if e.value["number"] == unique[0])

    def score(self, game: Game, round: int) -> dict[str, int]:
        winner = self._winner(game, round)
        return {winner[1]: WIN} if winner else {}

    def progress(self, game: Game) -> dict[str, Any]:
        return {
            "round": game.round,
            "picked": len(game.round_entries(game.round, PICK)),
            "eligible": game.seated,
        }

    def round_view(self, game: Game, audience: str) -> dict[str, Any]:
        view = {
            "index": game.round,
            "phase": game.phase,
            "prompt": game.prompts[game.round]["text"],
            "deadline": game.deadline,
            "highest": game.settings["highest"],
            **{k: v for k, v in self.progress(game).items() if k != "round"},
            "winner": None,
        }
        if game.phase == REVEAL:
            winner = self._winner(game, game.round)
            if winner:
                view["winner"] = {"number": winner[0], "nickname": game.players[winner[1]].nickname}
        return view

    def you_view(self, game: Game, player: str) -> dict[str, Any]:
        entry = game.round_entries(game.round, PICK).get(player) if game.round >= 0 else None
        return {"pick": entry.value["number"] if entry else None}

    def results(self, game: Game, round: int) -> list[dict[str, Any]]:
        counts = Counter(e.value["number"] for e in game.round_entries(round, PICK).values())
        return [{"number": n, "picks": c} for n, c in sorted(counts.items())]

    def export_rows(self, game: Game) -> list[dict[str, Any]]:
        return [
            {"round": r + 1, **row}
            for r, outcome in sorted(game.outcomes.items())
            if outcome == "scored"
            for row in self.results(game, r)
        ]
