"""The one door for commands: a loaded game and a command in; events, ack, messages and writes out.

Synchronous and free of I/O, so the appliance's hub and a Lambda handler apply commands the same
way: each loads the game its own way, calls `apply`, sends the messages to their audiences and makes
the writes durable (conditional on the game's version) before acknowledging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engagements import engine, items, views
from engagements.model import Command, Event, Game
from engagements.store.base import Write
from engagements.types import EngagementType


@dataclass
class Applied:
    """What one command did. `atomic` must commit together; `scores` may follow it (see items)."""

    events: list[Event]
    ack: dict[str, Any]
    messages: views.Messages
    atomic: list[Write]
    scores: list[Write]


def apply(game: Game, kind: EngagementType, cmd: Command, ttl: int) -> Applied:
    """Apply `cmd` to `game` (in place; raises Rejected and changes nothing when refused).

    Each broadcast takes the next `seq` from the game, shared by its renditions for every audience.
    """
    events, ack = engine.handle(game, cmd, kind)
    messages = views.messages(game, kind, events)
    for renditions in messages.broadcast:
        game.seq += 1
        for message in renditions.values():
            message["seq"] = game.seq
    atomic, scores = items.event_writes(game, events, ttl)
    return Applied(events, ack, messages, atomic, scores)
