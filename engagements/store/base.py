"""The store interface: DynamoDB's single-table operations, whatever the backend.

Every backend (embedded SQLite, any DynamoDB endpoint) implements exactly these operations with
DynamoDB's semantics, so items written by one read back identically from the other and a cloud
sync is a plain copy. Items are plain dicts of JSON-compatible values (str, int, bool, None, list,
dict); floats are not allowed because DynamoDB numbers are decimals.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

Item = dict[str, Any]
Key = dict[str, str]

PK = "PK"
SK = "SK"
GSI1 = "GSI1"
GSI1PK = "GSI1PK"
GSI1SK = "GSI1SK"
TTL = "ttl"  # epoch seconds; a reserved word in DynamoDB, so always aliased in expressions

MAX_TRANSACT_ITEMS = 100
MAX_BATCH_ITEMS = 25
MAX_PAGE_BYTES = 1024 * 1024
MAX_ITEM_BYTES = 400 * 1024


class StoreError(Exception):
    """A store operation was refused for a reason the caller can act on."""


class ConditionFailed(StoreError):
    """A conditional write found the item in another state; `item` is what is stored (or None)."""

    def __init__(self, item: Item | None = None) -> None:
        super().__init__("condition failed")
        self.item = item


class TransactionCanceled(StoreError):
    """A transaction wrote nothing; `reasons[i]` is "ConditionalCheckFailed" or None per operation."""

    def __init__(self, reasons: list[str | None]) -> None:
        super().__init__(f"transaction canceled: {reasons}")
        self.reasons = reasons


@dataclass(frozen=True)
class Cond:
    """One clause of a write condition; a condition is a tuple of clauses that must all hold.

    kind "absent": the item does not exist (attribute_not_exists(PK));
    kind "present": the item exists (attribute_exists(PK));
    kind "equals": attribute `attr` equals `value` (a missing attribute never equals);
    kind "below": attribute `attr` is missing or a number below `value` (a cap, such as a game's seats);
    kind "at_least": attribute `attr` is a number of at least `value` (a count that must not cross zero).
    """

    kind: str
    attr: str = PK
    value: Any = None


Condition = tuple[Cond, ...]


def absent() -> Condition:
    return (Cond("absent"),)


def present() -> Condition:
    return (Cond("present"),)


def equals(attr: str, value: Any) -> Condition:
    return (Cond("equals", attr, value),)


def below(attr: str, value: int) -> Condition:
    return (Cond("below", attr, value),)


def at_least(attr: str, value: int) -> Condition:
    return (Cond("at_least", attr, value),)


@dataclass(frozen=True)
class Put:
    item: Item
    condition: Condition = ()


@dataclass(frozen=True)
class Update:
    """SET the `set` attributes, ADD the `add` numbers, REMOVE the `remove` names; creates if missing."""

    pk: str
    sk: str
    set: Item = field(default_factory=dict)
    add: dict[str, int] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    condition: Condition = ()


@dataclass(frozen=True)
class Delete:
    pk: str
    sk: str
    condition: Condition = ()


Write = Put | Update | Delete


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_key: Key | None  # DynamoDB's LastEvaluatedKey: pass back as start_key for the next page


def now_epoch() -> int:
    return int(time.time())


def is_expired(item: Item, now: int | None = None) -> bool:
    """DynamoDB keeps expired items for up to two days, so readers filter them out themselves.

    Like DynamoDB, a TTL that is not a number (a string, a bool) never expires the item.
    """
    ttl = item.get(TTL)
    if not isinstance(ttl, int) or isinstance(ttl, bool):
        return False
    return ttl <= (now_epoch() if now is None else now)


class Store(ABC):
    """The single table. Reads never return expired items; queries only, never scans."""

    # True when writes are applied in the order they were called, even without awaiting each one:
    # the game service then needs no chaining of its own to keep one game's writes in order.
    ordered_writes: ClassVar[bool] = False

    @abstractmethod
    async def get(self, pk: str, sk: str) -> Item | None: ...

    @abstractmethod
    async def put(self, item: Item, condition: Condition = ()) -> None:
        """Raises ConditionFailed."""

    @abstractmethod
    async def update(
        self,
        pk: str,
        sk: str,
        *,
        set: Item | None = None,
        add: dict[str, int] | None = None,
        remove: Sequence[str] = (),
        condition: Condition = (),
    ) -> Item:
        """Returns the item as it is after the update. Raises ConditionFailed."""

    @abstractmethod
    async def delete(self, pk: str, sk: str, condition: Condition = ()) -> None:
        """Raises ConditionFailed; deleting a missing item without a condition is not an error."""

    @abstractmethod
    async def query(
        self,
        pk: str,
        prefix: str = "",
        *,
        index: str | None = None,
        limit: int | None = None,
        start_key: Key | None = None,
        reverse: bool = False,
    ) -> Page:
        """Items whose partition key is `pk` and sort key starts with `prefix`, in sort-key order.

        With index=GSI1 the keys are GSI1PK/GSI1SK. A page stops at `limit` items or about 1 MB.
        """

    @abstractmethod
    async def transact_write(self, writes: Sequence[Write], token: str | None = None) -> None:
        """All or nothing; at most 100 writes, no two on one item. Raises TransactionCanceled."""

    @abstractmethod
    async def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> list[Write]:
        """Unconditional, not atomic, at most 25 items; returns the writes left unprocessed."""

    @abstractmethod
    async def close(self) -> None:
        """Idempotent."""

    async def query_all(self, pk: str, prefix: str = "", *, index: str | None = None) -> list[Item]:
        """Follows every page: for partitions whose size is bounded by a game."""
        return [item async for item in self.iter_query(pk, prefix, index=index)]

    async def iter_query(self, pk: str, prefix: str = "", *, index: str | None = None) -> AsyncIterator[Item]:
        start: Key | None = None
        while True:
            page = await self.query(pk, prefix, index=index, start_key=start)
            for item in page.items:
                yield item
            if page.next_key is None:
                return
            start = page.next_key
