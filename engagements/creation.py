"""A new game from what the host typed: validated and built, not yet stored (pure, for both runtimes).

The appliance's service and the cloud's HTTP handler both create games here, so a title, a prompt or
a join setting is judged by one set of rules wherever the host types it.
"""

from __future__ import annotations

import logging
import re
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
# A line of the host's form (or of a pack) played by another type than the game's starts with that
# type's slug in brackets: `[quiz] Capital of France? | Lyon | *Paris`.
TYPE_MARK = re.compile(r"\[([a-z0-9][a-z0-9-]*)\]\s*")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Created:
    game: Game
    host_token: str

    def saved(self) -> None:
        """Its writes committed: the game exists now (one log line, the same on both runtimes)."""
        game = self.game
        extra = {"game_id": game.id, "type": game.type, "prompts": len(game.prompts)}
        log.info("game created", extra=extra)


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

    A prompt may name the type that plays it (`{"type": "quiz", ...}`, or a line `[quiz] ...`): a game
    may mix types. The others are played by the game's type: `type_slug`, else the first prompt's,
    else the default.
    `settings` may hold anything (a request's whole body): only the settings the game's types and
    the core declare are read from it.
    """
    title = text.title(title, "Game night")
    if not isinstance(prompts, list) or not prompts:
        raise Rejected("invalid", "Add at least one prompt.")
    if len(prompts) > MAX_PROMPTS:
        raise Rejected("invalid", f"A game holds at most {MAX_PROMPTS} prompts.")
    if type_slug is None:
        type_slug = prompt_type(prompts[0], types)[0] or default_type(types)
    game_type = _kind(types, type_slug, "Unknown game type")
    parsed = []
    for n, prompt in enumerate(prompts, 1):  # the host is told which of a hundred prompts to fix
        try:
            named, own_words = prompt_type(prompt, types)
            kind = _kind(types, named or game_type.slug, "Unknown prompt type")
            own = kind.parse_prompt(own_words)
        except Rejected as e:
            raise Rejected(e.code, f"Prompt {n}: {e.message}") from e
        except ValueError as e:
            raise Rejected("invalid", f"Prompt {n}: {e}.") from e
        parsed.append(own if kind is game_type else {**own, "type": kind.slug})
    used = [types[slug] for slug in dict.fromkeys([game_type.slug, *(p.get("type") for p in parsed)]) if slug]
    game_settings = resolve(declared(*used, *alongside(types, settings or {})), settings or {})
    game_id = new_id("g")
    host_token, host_hash = token_for(game_id)
    game = Game(
        game_id, new_code(), title, game_type.slug, parsed, game_settings, host_hash, new_secret(), now
    )
    game.version = 1
    return Created(game, host_token)


def prompt_type(prompt: Any, types: dict[str, EngagementType]) -> tuple[Any, Any]:
    """The type a prompt names and the prompt as that type reads it: an object's `type` (the object
    as it is), or a line's leading `[slug]` when it names an installed type (the line without it);
    else None and the prompt unchanged (a line starting with `[note]` stays an answer-vote prompt)."""
    if isinstance(prompt, dict):
        return prompt.get("type"), prompt
    if isinstance(prompt, str):
        mark = TYPE_MARK.match(prompt.lstrip())
        if mark is not None and mark.group(1) in types:
            return mark.group(1), prompt.lstrip()[mark.end() :]
    return None, prompt


def marked(slug: str, line: str) -> str:
    """A line of the form played by `slug` in a game of another type (what `prompt_type` reads)."""
    return f"[{slug}] {line}"


def _kind(types: dict[str, EngagementType], slug: Any, unknown: str) -> EngagementType:
    kind = types.get(slug) if isinstance(slug, str) else None
    if kind is None:
        raise Rejected("invalid", f"{unknown}: the types are {', '.join(sorted(types))}.")
    return kind


def declared(*kinds: EngagementType) -> tuple[Setting, ...]:
    """Every setting a game of these types has: each type's own (a name two types declare is one
    setting, as the first declares it), then the core's join rules."""
    own: dict[str, Setting] = {}
    for kind in kinds:
        for s in kind.settings:
            own.setdefault(s.name, s)
    return (*own.values(), *JOIN_SETTINGS)


def alongside(types: dict[str, EngagementType], given: dict[str, Any]) -> list[EngagementType]:
    """The types the host asked to run alongside the rounds (`alongside` on: a Q&A open all game):
    their settings join the game's. A game without one keeps no such setting at all."""
    lanes = [k for k in types.values() if k.alongside]
    on = [k for k in lanes if given.get(k.alongside) is not None and _switch(k).check(given[k.alongside])]
    if len(on) > 1:
        raise Rejected("invalid", "Only one kind of game can run alongside the rounds.")
    return on


def _switch(kind: EngagementType) -> Setting:
    return next(s for s in kind.settings if s.name == kind.alongside)


def catalogue(types: dict[str, EngagementType]) -> dict[str, Any]:
    """What a host may create (`GET /api/types`): each type with its settings (and `alongside`, the
    one that runs it beside the rounds of any game), the core's settings every game has, and the
    default type; the "new game" form is built from it."""
    return {
        "default": default_type(types),
        "settings": [s.as_json() for s in JOIN_SETTINGS],
        "types": [
            {
                "slug": slug,
                "title": kind.title,
                "settings": [s.as_json() for s in kind.settings],
                "alongside": kind.alongside,
                "prompt_hint": kind.prompt_hint,
                "prompt_chars": kind.prompt_chars,
            }
            for slug, kind in types.items()
        ],
    }
