"""The one door for commands: a loaded game and a command in; events, ack, messages and writes out.

Synchronous and free of I/O, so the appliance's service and the cloud's Lambda handlers apply commands
the same way: each loads the game its own way, calls `apply`, makes the writes durable and only then
sends the messages to their audiences and the ack to the sender.

The writes are guarded by the game's version: every change to META (a phase, the lock, the host's
acks) is an update on condition `version = <the version loaded>` (items.meta_update), so two servers
or two Lambda invocations that loaded the same version cannot both commit. Each broadcast takes the
next `seq` from the game, which was loaded from META and is saved in that same guarded update: seq
numbers have no gaps and no duplicates however many runtimes share a game.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engagements import engine, items, views
from engagements.model import FINISHED, Command, Event, Game
from engagements.store.base import Write
from engagements.types import Types

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """What one command did.

    `messages` holds the broadcasts rendered per audience (the board views: host console and big
    screen; the phones), the `you` messages per player and the players to disconnect. `atomic` must
    commit together (the version guard among them); `scores` may follow it (see items.event_writes).
    """

    events: list[Event]
    ack: dict[str, Any]
    messages: views.Messages
    atomic: list[Write]
    scores: list[Write]

    @property
    def finishes(self) -> bool:
        """The command finished the game: once saved, its webhooks announce it and the metrics count
        it (both runtimes)."""
        return any(e.kind == "phase_changed" and e.data["status"] == FINISHED for e in self.events)


def apply(game: Game, types: Types, cmd: Command, ttl: int, *, settle_phases: bool = True) -> Applied:
    """Apply `cmd` to `game` (in place; raises Rejected and changes nothing when refused).

    `types`: every installed type (each round is played by its own, types.kind_of).
    `settle_phases=False` for a partial game: see engine.handle.
    """
    events, ack = engine.handle(game, cmd, types, settle_phases=settle_phases)
    if log.isEnabledFor(logging.INFO):
        _log(game, cmd, events)
    messages = views.messages(game, types, events)
    for renditions in messages.broadcast:
        game.seq += 1
        for message in renditions.values():
            message["seq"] = game.seq
    atomic, scores = items.event_writes(game, events, ttl, types)
    return Applied(events, ack, messages, atomic, scores)


def _log(game: Game, cmd: Command, events: list[Event]) -> None:
    """What a command did, the same on both runtimes: a phase change at INFO (a few a round), the
    rest at DEBUG; with the game and command ids, whoever runs it (a deadline's tick has no socket)."""
    ids = {"game_id": game.id, "command": cmd.type, **({"command_id": cmd.id} if cmd.id else {})}
    for event in events:
        if event.kind == "phase_changed":
            d = event.data
            log.info(
                "phase changed to %s", d["phase"], extra={**ids, "round": game.round, "status": d["status"]}
            )
    if log.isEnabledFor(logging.DEBUG):
        log.debug("command applied: %s", ", ".join(e.kind for e in events) or "no events", extra=ids)
