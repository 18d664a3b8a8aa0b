"""What a question pack file reads as before its prompts are judged, shared by packs.py and the types.

A type that reads a file format of its own (the quiz reads Kahoot! spreadsheets) returns a `RawPack`;
packs.py then judges every prompt with the type's `parse_prompt`, whatever the file was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class PackError(ValueError):
    """The file is not a question pack we can read; the message says what to fix."""


@dataclass
class RawPack:
    """A pack as read: each prompt with where it stands in the file ("Row 4", "Prompt 2"), so an
    error names the row a host has to fix, and the settings and notes the file brings."""

    prompts: list[tuple[str, Any]]  # (where, what the type's `parse_prompt` reads)
    title: str | None = None
    type: str | None = None  # the pack's own type, when the file says it
    settings: dict[str, Any] = field(default_factory=dict)  # the type's own settings (its timers)
    notes: list[str] = field(default_factory=list)  # what the host should know (a time limit changed)
    errors: list[str] = field(default_factory=list)  # rows the reader could not read ("Row 4: why")
