"""A new game from what the host typed: validated and built, not yet stored (pure, for both runtimes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engagements.codes import new_code, new_id, new_secret, token_for
from engagements.model import Game, Rejected
from engagements.types import EngagementType

TITLE_MAX = 80
MAX_PROMPTS = 100
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
        raise Rejected("invalid", f"Unknown game type {type_slug!r}.")
    if not isinstance(title, str) or not title.strip():
        title = "Game night"
    title = " ".join(title.split())[:TITLE_MAX]
    if not isinstance(prompts, list) or not prompts:
        raise Rejected("invalid", "Add at least one prompt.")
    if len(prompts) > MAX_PROMPTS:
        raise Rejected("invalid", f"A game holds at most {MAX_PROMPTS} prompts.")
    try:
        parsed = [kind.parse_prompt(p) for p in prompts]
    except ValueError as e:
        raise Rejected("invalid", str(e).capitalize() + ".") from e
    game_settings = dict(kind.defaults)
    for key, value in (settings or {}).items():
        if key not in game_settings or value is None:
            continue
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not SECONDS_RANGE[0] <= value <= SECONDS_RANGE[1]
        ):
            raise Rejected("invalid", f"{key} must be a whole number of seconds from 5 to 600.")
        game_settings[key] = value
    game_id = new_id("g")
    host_token, host_hash = token_for(game_id)
    game = Game(game_id, new_code(), title, kind.slug, parsed, game_settings, host_hash, new_secret(), now)
    game.version = 1
    return Created(game, host_token)
