"""A new game from what the host typed: validated and built, not yet stored (pure, for both runtimes).

The appliance's service and the cloud's HTTP handler both create games here, so a title, a prompt or
a join setting is judged by one set of rules wherever the host types it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engagements import text
from engagements.codes import new_code, new_id, new_secret, token_for
from engagements.engine import JOIN_SETTINGS, PLAYERS_RANGE
from engagements.model import Game, Rejected
from engagements.store.base import MAX_TRANSACT_ITEMS
from engagements.types import EngagementType

# A game is created in one transaction: its META, its join code and one item per prompt.
MAX_PROMPTS = MAX_TRANSACT_ITEMS - 2
SECONDS_RANGE = (5, 600)


@dataclass(frozen=True)
class Created:
    game: Game
    host_token: str


def new_game(
    types: dict[str, EngagementType],
    title: Any,
    prompts: Any,
    type_slug: Any = "answer-vote",
    settings: dict[str, Any] | None = None,
    *,
    now: int,
) -> Created:
    """Raises Rejected. Each call draws a new id, join code and secrets: a clash is drawn again."""
    kind = types.get(type_slug) if isinstance(type_slug, str) else None
    if kind is None:
        raise Rejected("invalid", f"Unknown game type: the types are {', '.join(sorted(types))}.")
    title = text.title(title, "Game night")
    if not isinstance(prompts, list) or not prompts:
        raise Rejected("invalid", "Add at least one prompt.")
    if len(prompts) > MAX_PROMPTS:
        raise Rejected("invalid", f"A game holds at most {MAX_PROMPTS} prompts.")
    parsed = []
    for n, prompt in enumerate(prompts, 1):  # the host is told which of a hundred prompts to fix
        try:
            parsed.append(kind.parse_prompt(prompt))
        except Rejected as e:
            raise Rejected(e.code, f"Prompt {n}: {e.message}") from e
        except ValueError as e:
            raise Rejected("invalid", f"Prompt {n}: {e}.") from e
    game_settings = {**JOIN_SETTINGS, **kind.defaults}
    for key, value in (settings or {}).items():
        if key not in game_settings or value is None:
            continue
        game_settings[key] = _setting(key, value)
    game_id = new_id("g")
    host_token, host_hash = token_for(game_id)
    game = Game(game_id, new_code(), title, kind.slug, parsed, game_settings, host_hash, new_secret(), now)
    game.version = 1
    return Created(game, host_token)


def _setting(key: str, value: Any) -> int:
    """A game setting checked against its range: whole seconds, a number of players, or a yes/no."""
    if key == "late_join":
        if not isinstance(value, bool):
            raise Rejected("invalid", "late_join must be true or false.")
        return value
    low, high = PLAYERS_RANGE if key == "max_players" else SECONDS_RANGE
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        unit = "players" if key == "max_players" else "seconds"
        raise Rejected("invalid", f"{key} must be a whole number of {unit} from {low} to {high}.")
    return value
