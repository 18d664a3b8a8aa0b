"""A new game from what the host typed: validated and built, not yet stored (pure, for both runtimes).

The appliance's service and the cloud's HTTP handler both create games here, so a title, a prompt or
a join setting is judged by one set of rules wherever the host types it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engagements import text
from engagements.codes import new_code, new_id, new_secret, token_for
from engagements.model import Game, Rejected
from engagements.plugins import default_type
from engagements.settings import JOIN_SETTINGS, Setting, resolve
from engagements.store.base import MAX_TRANSACT_ITEMS
from engagements.types import EngagementType

# A game is created in one transaction: its META, its join code and one item per prompt.
MAX_PROMPTS = MAX_TRANSACT_ITEMS - 2


@dataclass(frozen=True)
class Created:
    game: Game
    host_token: str


def new_game(
    types: dict[str, EngagementType],
    title: Any,
    prompts: Any,
    type_slug: Any = None,
    settings: dict[str, Any] | None = None,
    *,
    now: int,
) -> Created:
    """Raises Rejected. Each call draws a new id, join code and secrets: a clash is drawn again.

    `type_slug` None is the default type; `settings` may hold anything (a request's whole body):
    only the settings the game's type and the core declare are read from it.
    """
    if type_slug is None:
        type_slug = default_type(types)
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
    game_settings = resolve(declared(kind), settings or {})
    game_id = new_id("g")
    host_token, host_hash = token_for(game_id)
    game = Game(game_id, new_code(), title, kind.slug, parsed, game_settings, host_hash, new_secret(), now)
    game.version = 1
    return Created(game, host_token)


def declared(kind: EngagementType) -> tuple[Setting, ...]:
    """Every setting a game of this type has: the type's own, then the core's join rules."""
    return (*kind.settings, *JOIN_SETTINGS)


def catalogue(types: dict[str, EngagementType]) -> dict[str, Any]:
    """What a host may create (`GET /api/types`): each type with its settings, the core's settings
    every game has, and the default type; the "new game" form is built from it."""
    return {
        "default": default_type(types),
        "settings": [s.as_json() for s in JOIN_SETTINGS],
        "types": [
            {
                "slug": slug,
                "title": kind.title,
                "settings": [s.as_json() for s in kind.settings],
                "prompt_hint": kind.prompt_hint,
                "prompt_chars": kind.prompt_chars,
            }
            for slug, kind in types.items()
        ],
    }
