"""moto's DynamoDB queries made to read their own partition, not the whole table sorted.

moto (5.x) answers every Query from `Table.all_items()`: every item of the table, sorted by key with
moto's own comparisons, then filtered to the partition asked for (or, for an index, scanned and
sorted again). With a game of 1,000 players in the table that is about 10,000 items sorted for each
query: about a second of moto's core per query (measured: 0.03 s at 1,000 items, 0.95 s at 10,000),
so a phone's hello, a board view's `room` update or a page of a deadline's whole-game load cost the
double more the larger the room, while DynamoDB reads the one partition. The bench then measured
the double's queue, not the handlers.

`install()` changes that in the moto of this process: while a Query runs, `all_items()` gives a
table query only its partition's items, already in moto's key order (of a `begins_with`, only those
with the prefix, found by bisection: 0.03 s at 10,000 items), and an index query every item unsorted
(the index query sorts what it found by the index's keys, table keys last, so the order it returns
is the same). Results, pages and order are moto's own; only the work is less. It is part of the test
double, installed with tests/cloudlocal/transactions.py's: production talks to DynamoDB.
"""

from __future__ import annotations

import bisect
import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models.table import Table

EVERY = object()  # an index query reads every item, in no particular order


@dataclass(frozen=True)
class Reading:
    """What the Query running on a thread reads: a partition (`hash_key`), or EVERY item, and the
    range key's condition (moto's `range_comparison` and its values), to narrow a partition by."""

    partition: Any
    comparison: str | None = None
    values: tuple[Any, ...] = ()


_QUERY = threading.local()  # `reading`: the Reading of the Query running on this thread, if any


def _querying(method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)

    @functools.wraps(method)
    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        if bound.get("index_name"):
            _QUERY.reading = Reading(EVERY)
        else:
            values = tuple(bound.get("range_objs") or ())
            _QUERY.reading = Reading(bound["hash_key"], bound.get("range_comparison"), values)
        try:
            return method(self, *args, **kwargs)
        finally:
            _QUERY.reading = None

    return query


def _items(method: Callable[[Table], list[Any]]) -> Callable[[Table], list[Any]]:
    @functools.wraps(method)
    def all_items(self: Table) -> list[Any]:
        reading = getattr(_QUERY, "reading", None)
        if reading is None or not self.range_key_attr:
            return method(self)
        # list() copies a dict in one step, so a write on another thread cannot change it midway
        if reading.partition is EVERY:
            return [item for hash_set in list(self.items.values()) for item in list(hash_set.values())]
        # `get`, not `[]`: the table's defaultdict would keep an empty partition
        return partition(list(self.items.get(reading.partition, {}).values()), reading)

    return all_items


def partition(found: list[Any], reading: Reading) -> list[Any]:
    """A partition's items in moto's key order; of string keys, only those that begin with the
    prefix of a `BEGINS_WITH` (moto still checks each item it is given against the condition)."""
    if not found or any(item.range_key.type != "S" for item in found):
        return sorted(found, key=lambda item: item.range_key.cast_value)
    ordered = sorted(found, key=lambda item: item.range_key.value)
    if reading.comparison != "BEGINS_WITH" or reading.values[0].type != "S":
        return ordered
    prefix = reading.values[0].value
    keys = [item.range_key.value for item in ordered]
    first = bisect.bisect_left(keys, prefix)
    last = first
    while last < len(keys) and keys[last].startswith(prefix):
        last += 1
    return ordered[first:last]


def install() -> None:
    """Idempotent."""
    if getattr(Table, "_queries_own_partition", False):
        return
    Table.query = _querying(Table.query)  # type: ignore[method-assign]
    Table.all_items = _items(Table.all_items)  # type: ignore[method-assign]
    Table._queries_own_partition = True  # type: ignore[attr-defined]
