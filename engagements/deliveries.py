"""Webhooks and their deliveries as items of the single table, and the retry schedule, for both runtimes.

    PK               SK                                     what
    WEBHOOKS         HOOK#<webhook id>                      a webhook: its URL and secret
    HOOK#<id>        DELIVERY#<created ms>#<event id>       one event for one webhook: its body, attempts,
                                                            last answer, next attempt; the delivery log

A pending delivery also carries GSI1PK = "DELIVERIES#due" and GSI1SK = "<next attempt ms>#<webhook
id>#<event id>": the appliance's worker reads the deliveries due first from the index, never by a scan,
and a delivery leaves the index once it is delivered or given up. Every delivery expires `KEEP_DAYS`
after it was made (pending) or settled, so the log of a webhook stays bounded; the webhooks themselves
never expire. Nothing here is in a game's partition: the cloud sync never copies a delivery or a secret.

A delivery is claimed before each attempt by a conditional update on its `attempts`, which also moves
its next attempt a lease ahead: two workers cannot both send it, and an attempt cut off by a crash
(kill -9 mid-request) is simply due again once the lease is over. Delivery is at least once: a
receiver dedupes by the event's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engagements import webhooks
from engagements.codes import new_id
from engagements.store.base import GSI1PK, GSI1SK, PK, SK, TTL, Item, Put, Store, Update, absent, equals

HOOKS = "WEBHOOKS"
HOOK = "HOOK#"
DELIVERY = "DELIVERY#"
DUE = "DELIVERIES#due"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
MAX_HOOKS = 10  # per appliance (or stack): a finished game's deliveries fit in its finishing transaction
LOG_SIZE = 20  # deliveries shown per webhook, newest first
KEEP_DAYS = 7  # a delivery is kept this long after it was made, then after it settled
ERROR_CHARS = 200


@dataclass(frozen=True)
class Retry:
    """When to try again: exponential backoff with jitter, a bounded number of attempts, each timed out.

    The defaults try 15 times over about six hours (10 s, 20 s, … one hour between tries), which rides
    out a receiver's deploy or a venue's internet coming back after the evening.
    """

    first: float = 10.0  # seconds before the second attempt, at most; doubled for each further one
    cap: float = 3600.0  # the longest wait between two attempts
    attempts: int = 15
    timeout: float = 10.0  # one attempt, from connecting to the answer's status line

    def delay(self, made: int, rand: float) -> float:
        """Seconds before the next attempt after `made` attempts, `rand` uniform in [0, 1).

        Half of the backoff is fixed and half is random: receivers recovering from an outage are not
        hit by every appliance at the same second, and no wait is shorter than half its step.
        """
        step = min(self.cap, self.first * 2 ** max(0, made - 1))
        return step / 2 + step / 2 * rand

    @property
    def lease(self) -> float:
        """How long a claimed delivery is left alone: its attempt's timeout and a margin."""
        return self.timeout + 5.0


@dataclass(frozen=True)
class Result:
    """One attempt's outcome: the HTTP status (None when there was no answer) or what went wrong."""

    status: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _ms(ms: int) -> str:
    return f"{ms:015d}"


def _expiry(now_ms: int) -> int:
    return now_ms // 1000 + KEEP_DAYS * 86400


# -- webhooks --------------------------------------------------------------------------------------------


def hook_key(hook_id: str) -> tuple[str, str]:
    return HOOKS, HOOK + hook_id


def hook_item(url: str, secret: str, now_ms: int) -> Item:
    hook_id = new_id("wh", 10)
    pk, sk = hook_key(hook_id)
    return {PK: pk, SK: sk, "id": hook_id, "url": url, "secret": secret, "created_at": now_ms}


def hook_view(hook: Item) -> dict[str, Any]:
    """What anyone is shown of a webhook after it was made: never its secret."""
    return {"id": hook["id"], "url": hook["url"], "created_at": hook["created_at"]}


async def hooks(store: Store) -> list[Item]:
    """Every webhook of this table: one query of a small partition (at most MAX_HOOKS items)."""
    return await store.query_all(HOOKS, HOOK)


# -- deliveries ------------------------------------------------------------------------------------------


def delivery_puts(to: list[Item], event: dict[str, Any], now_ms: int) -> list[Put]:
    """One pending delivery of `event` to each webhook of `to`, due now: saved with whatever the event
    is about (the command that finished the game, the update that marked it synced), so neither can be
    saved without the other."""
    body = webhooks.encode(event)
    puts = []
    for hook in to:
        item = {
            PK: HOOK + hook["id"],
            SK: f"{DELIVERY}{_ms(now_ms)}#{event['id']}",
            "hook": hook["id"],
            "event_id": event["id"],
            "event": event["type"],
            "body": body,
            "created_at": now_ms,
            "attempts": 0,
            "status": PENDING,
            "last_status": None,
            "last_error": None,
            "next_at": now_ms,
            "done_at": None,
            GSI1PK: DUE,
            GSI1SK: _due_key(now_ms, hook["id"], event["id"]),
            TTL: _expiry(now_ms),
        }
        puts.append(Put(item, absent()))
    return puts


def _due_key(at_ms: int, hook_id: str, event_id: str) -> str:
    return f"{_ms(at_ms)}#{hook_id}#{event_id}"


def claim(item: Item, now_ms: int, retry: Retry) -> Update:
    """Take a due delivery for one attempt (see the module's docstring); fails if another took it."""
    until = now_ms + int(retry.lease * 1000)
    return Update(
        item[PK],
        item[SK],
        set={
            "attempts": item["attempts"] + 1,
            "next_at": until,
            GSI1SK: _due_key(until, item["hook"], item["event_id"]),
        },
        condition=equals("attempts", item["attempts"]) + equals("status", PENDING),
    )


def settle(claimed: Item, now_ms: int, result: Result, retry: Retry, rand: float) -> Update:
    """Record an attempt of a delivery claimed with `claim` (so `attempts` counts it): delivered, due
    again after the backoff, or given up after the last attempt."""
    answer: Item = {"last_status": result.status, "last_error": (result.error or "")[:ERROR_CHARS] or None}
    made = claimed["attempts"]
    if result.delivered or made >= retry.attempts:
        status = DELIVERED if result.delivered else FAILED
        return Update(
            claimed[PK],
            claimed[SK],
            set={**answer, "status": status, "done_at": now_ms, "next_at": None, TTL: _expiry(now_ms)},
            remove=(GSI1PK, GSI1SK),
            condition=equals("attempts", made),
        )
    at = now_ms + int(retry.delay(made, rand) * 1000)
    return Update(
        claimed[PK],
        claimed[SK],
        set={**answer, "next_at": at, GSI1SK: _due_key(at, claimed["hook"], claimed["event_id"])},
        condition=equals("attempts", made),
    )


def give_up(item: Item, now_ms: int, reason: str) -> Update:
    """A delivery that can never be made (its webhook was removed): settled as failed, unsent."""
    return Update(
        item[PK],
        item[SK],
        set={
            "status": FAILED,
            "last_error": reason,
            "done_at": now_ms,
            "next_at": None,
            TTL: _expiry(now_ms),
        },
        remove=(GSI1PK, GSI1SK),
        condition=equals("status", PENDING),
    )


def delivery_view(item: Item) -> dict[str, Any]:
    """One line of a webhook's delivery log (the body is not repeated: the event's id and type are)."""
    fields = ("event_id", "event", "status", "attempts", "last_status", "last_error", "created_at")
    return {f: item.get(f) for f in fields} | {"next_at": item.get("next_at"), "done_at": item.get("done_at")}
