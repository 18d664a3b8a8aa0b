"""Engagement types arrive through one entry-point group; the built-in one comes the same way."""

from __future__ import annotations

from importlib.metadata import entry_points

from engagements.settings import BOOLEAN, INTEGER, JOIN_SETTINGS
from engagements.types import EngagementType

GROUP = "engagements.types"


class DuplicateType(Exception):
    """Two plugins claim one slug: refusing to start beats serving the wrong game."""


class BadType(Exception):
    """A type whose declarations do not hold together: found at start-up, not in the middle of a game."""


def load_types(extra: tuple[type[EngagementType], ...] = ()) -> dict[str, EngagementType]:
    """Every installed type by slug, plus `extra` classes (tests register theirs this way).

    The default type (the one a game gets when its creator names none) comes first: the type that
    declares `default`, else the first by slug.
    """
    classes = [ep.load() for ep in entry_points(group=GROUP)] + list(extra)
    types: dict[str, EngagementType] = {}
    for cls in classes:
        if cls.slug in types:
            raise DuplicateType(f"two engagement types are called {cls.slug!r}")
        types[cls.slug] = check(cls())
    defaults = [slug for slug, kind in types.items() if kind.default]
    if len(defaults) > 1:
        raise DuplicateType(f"two engagement types claim to be the default: {', '.join(sorted(defaults))}")
    order = sorted(types, key=lambda slug: (slug not in defaults, slug))
    return {slug: types[slug] for slug in order}


def default_type(types: dict[str, EngagementType]) -> str:
    return next(iter(types))


def check(kind: EngagementType) -> EngagementType:
    """A type's settings must not shadow the core's, and each of its timers must name one of them."""
    own = {s.name: s for s in kind.settings}
    core = {s.name for s in JOIN_SETTINGS}
    if len(own) != len(kind.settings) or core & set(own):
        raise BadType(f"{kind.slug}: a setting is declared twice (or is one of the core's: {sorted(core)})")
    for phase, name in kind.timers.items():
        if phase not in kind.phases or name not in own or own[name].kind != INTEGER:
            raise BadType(f"{kind.slug}: the timer of {phase!r} must name an integer setting (seconds)")
    if kind.alongside is not None and (kind.alongside not in own or own[kind.alongside].kind != BOOLEAN):
        raise BadType(f"{kind.slug}: `alongside` must name a boolean setting of its own")
    return kind
