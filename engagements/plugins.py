"""Engagement types arrive through one entry-point group; the built-in one comes the same way."""

from __future__ import annotations

from importlib.metadata import entry_points

from engagements.types import EngagementType

GROUP = "engagements.types"


class DuplicateType(Exception):
    """Two plugins claim one slug: refusing to start beats serving the wrong game."""


def load_types(extra: tuple[type[EngagementType], ...] = ()) -> dict[str, EngagementType]:
    """Every installed type by slug, plus `extra` classes (tests register theirs this way)."""
    classes = [ep.load() for ep in entry_points(group=GROUP)] + list(extra)
    types: dict[str, EngagementType] = {}
    for cls in classes:
        if cls.slug in types:
            raise DuplicateType(f"two engagement types are called {cls.slug!r}")
        types[cls.slug] = cls()
    return types
