"""A game's settings, declared once: the core's join rules and each type's own (its timers, say).

A declaration is what the host's "new game" form is built from (`GET /api/types`), what judges the
values a host sends (on the appliance and in the cloud alike) and what docs/protocol.md lists, so a
range lives in one place instead of in an error message here and an `<input>` there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from engagements.model import Rejected

INTEGER, BOOLEAN = "integer", "boolean"


@dataclass(frozen=True)
class Setting:
    """One setting of a game: an integer within [min, max] (counted in `unit`), or a yes/no."""

    name: str
    label: str  # what the host's form calls it
    kind: str  # INTEGER or BOOLEAN
    default: int | bool
    min: int | None = None
    max: int | None = None
    unit: str = ""  # what an integer counts ("seconds", "players"): for messages and the form
    help: str = ""

    def check(self, value: Any) -> int | bool:
        """The value if it is one this setting takes; raises Rejected saying what it takes."""
        if self.kind == BOOLEAN:
            if not isinstance(value, bool):
                raise Rejected("invalid", f"{self.name} must be true or false.")
            return value
        assert self.min is not None and self.max is not None, self.name
        if not isinstance(value, int) or isinstance(value, bool) or not self.min <= value <= self.max:
            unit = f" of {self.unit}" if self.unit else ""
            raise Rejected(
                "invalid", f"{self.name} must be a whole number{unit} from {self.min} to {self.max}."
            )
        return value

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# The join rules every game has, whatever its type. `max_players`: seats in the game (kicked players'
# seats are given back); `late_join`: whether players may still join once the game has started (an
# audience arriving late), else only in the lobby.
JOIN_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "max_players", "Most players", INTEGER, 10_000, 1, 10_000, "players",
        "Seats in the game; a kicked player's seat is given back.",
    ),
    Setting(
        "late_join", "Latecomers can join once the game has started", BOOLEAN, True,
        help="Otherwise players join only in the lobby.",
    ),
)  # fmt: skip


JOIN_DEFAULTS = {s.name: s.default for s in JOIN_SETTINGS}  # for games created before a setting existed


def resolve(declared: Iterable[Setting], given: Mapping[str, Any]) -> dict[str, int | bool]:
    """A game's settings: each declared one from `given` (checked) or its default.

    A name nobody declared is ignored, as is a `null`: a client that sends the whole form of another
    type, or leaves a field out, still gets a game.
    """
    out: dict[str, int | bool] = {}
    for s in declared:
        value = given.get(s.name)
        out[s.name] = s.default if value is None else s.check(value)
    return out
