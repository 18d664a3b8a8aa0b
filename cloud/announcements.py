"""A deadline's phase change is announced even when the invocation that saved it dies before its posts.

The deadline function's `tick` commits the phase change, then posts it and queues the next phase's
deadline. If the invocation is killed in between (its timeout, a crash), SQS delivers the message
again, but the retried tick finds META's deadline changed, as it does every round when the phase
closed early because everyone had finished: without more, nothing would tell the views, and the next
deadline would never be queued (the game would wait for the host). The same holds for `settle`,
which closes a phase early in the invocation of the answer or vote that completed it, and which
nothing retries.

So the commit of a tick or a settle that changes the phase also writes an outbox mark on META, in the
same transaction (`marked`): the deadline of the phase it closed, the `seq` of its broadcast and its
events' kinds. Once the posts are out and the next deadline queued, the mark is removed (`clear`, one
conditional write). A tick of that deadline (SQS's retry, or its first delivery after an early close)
that finds the mark (`pending`) announces again from the whole game as it is now (`messages`), queues
META's deadline and removes the mark; one that finds none (the announcement was done) returns, as
before: a phase closed early and announced is never announced twice.

The host's commands run in a `$default` invocation, which nothing retries; they are marked too. One
decided in a timed phase (the question, the vote) is marked with that phase's deadline, whose tick is
still queued. One that changes the phase from a phase without a deadline (`start` from the lobby,
`next` from the results, closing a Q&A) has no tick to follow it, and the phase it opens has no
deadline queued until its posts are out: so its invocation queues a tick of its own before the commit
(`CloudGames._check_announced`), GRACE from then, and marks the change with that tick's time. The tick
finds the mark cleared when the invocation announced the change, and does nothing; else it announces
it, and queues the deadline of the phase it opened. A commit that failed leaves a tick that finds no
mark. GRACE is what the invocation is given to post a change before it is announced again: in AWS the
posts of a large room are handed to the fan-out function within a second; the local test double takes
seconds at 1,000 phones. A slower invocation's change is announced twice, which the views ignore
(below), at the cost of a whole load and the posts again; a longer grace would leave the phase opened
by a lost change (a question, whose deadline is fixed) unseen for longer.

Announcing twice is harmless when the first posts did reach some views: an event whose `seq` a view
has already applied is ignored (docs/protocol.md, "Ordering"), a `you` replaces the player's state
whole, and a deadline queued twice fires a tick that finds it no longer META's. When a later command
has broadcast since (META's `seq` moved on), the views that missed the tick's event saw a gap and
synced: only the deadline is queued again.
"""

from __future__ import annotations

from engagements import items, views
from engagements.commands import Applied
from engagements.model import Event, Game
from engagements.store.base import ConditionFailed, Item, Store, Update, Write, equals
from engagements.types import Types

GRACE = 10_000  # ms after a change from an untimed phase, before a tick checks that it was announced
DEADLINE = "unannounced"  # on META: the deadline of the phase whose close is not announced yet
# (or, for a change from an untimed phase, the time of the tick queued to check it)
SEQ = "unannounced_seq"  # the seq of that change's broadcast
EVENTS = "unannounced_events"  # the kinds of its events that views.messages renders from
RENDERED = ("phase_changed", "round_scored")  # the events of a tick whose messages need their kind only


def marked(writes: list[Write], game: Game, applied: Applied, deadline: int) -> list[Write]:
    """The command's writes with the mark on its META update (there is one: it changed the phase)."""
    mark = {DEADLINE: deadline, SEQ: game.seq, EVENTS: [e.kind for e in applied.events if e.kind in RENDERED]}
    return [
        Update(w.pk, w.sk, set={**w.set, **mark}, add=w.add, remove=w.remove, condition=w.condition)
        if isinstance(w, Update) and w.sk == items.META
        else w
        for w in writes
    ]


def pending(meta: Item, deadline: int) -> bool:
    """This deadline's tick changed the phase and its announcement was not done."""
    return meta.get(DEADLINE) == deadline


def messages(game: Game, types: Types, meta: Item) -> views.Messages:
    """The marked change's messages rendered again from the game as it is now, with the change's seq;
    none when a later broadcast has followed it (views that missed it saw a gap and synced)."""
    if game.seq != meta.get(SEQ):
        return views.Messages()
    shown = views.messages(game, types, [Event(kind, {}) for kind in meta.get(EVENTS, [])])
    for renditions in shown.broadcast:
        for message in renditions.values():
            message["seq"] = game.seq
    return shown


async def clear(store: Store, game_id: str, deadline: int) -> None:
    """Announced: remove the mark, unless a later tick has put its own there."""
    try:
        pk, remove = items.game_pk(game_id), (DEADLINE, SEQ, EVENTS)
        await store.update(pk, items.META, remove=remove, condition=equals(DEADLINE, deadline))
    except ConditionFailed:
        pass
