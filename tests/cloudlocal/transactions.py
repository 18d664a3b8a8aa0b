"""moto's DynamoDB transactions made fit for a room of a thousand: each saves the items it writes, not
the whole table, and none interleaves with another write.

moto (5.x) backs up each table a transaction touches with a deep copy, once per item of the
transaction, and when a condition is refused puts that copy back in place of the table. With a game
of 1,000 players that is about 10,000 items copied for each item of every join and answer: the
bench's moto grew past 2.5 GB and answered in tens of seconds, so the bench at 1,000 players never
finished. Worse, the copy put back is the table as it was when the refused transaction began, which
undoes whatever other requests committed meanwhile: updates lost, which DynamoDB never loses.

`install()` changes that in the moto of this process: a Table is no longer copied, a transaction
saves the items it names and, refused, puts those back (all or nothing, as DynamoDB says), and every
write of the DynamoDB backend takes one lock, so no other write lands between a transaction's
check and its writes (DynamoDB's transactions are serializable with other writes). It also makes a
query read its own partition (tests/cloudlocal/queries.py). It is part of the test double: production
talks to DynamoDB. `python -m tests.cloudlocal.transactions` runs moto's
server with it (moto.server's arguments).
"""

from __future__ import annotations

import copy
import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from tests.cloudlocal import queries

LOCK = threading.RLock()  # re-entrant: a transaction's own writes go through the wrapped methods
WRITES = ("put_item", "update_item", "delete_item")


class _KeepTables:
    """Stands in for the `copy` module in moto's DynamoDB models: a Table is returned as it is (its
    transaction saves its own items instead); anything else is copied as before."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return method(*args, **kwargs)

    return write


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
    return {name: op["Item"][name] for name in names}


def _transactional(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with LOCK:
            saved = []
            for entry in transact_items:
                try:
                    (op_type, op), *_ = entry.items()
                    key = _key(self, op_type, op)
                    item = self.get_item(op["TableName"], key)
                except Exception:  # moto refuses such a transaction itself, below
                    continue
                attrs = None if item is None else copy.deepcopy(item.to_json()["Attributes"])
                saved.append((op["TableName"], key, attrs))
            try:
                return method(self, transact_items)
            except Exception:
                for table, key, attrs in reversed(saved):
                    if attrs is None:
                        self.delete_item(table, key)
                    else:
                        self.put_item(table, attrs)
                raise

    return transact_write_items


def install() -> None:
    """Idempotent."""
    queries.install()
    if getattr(DynamoDBBackend, "_saves_own_items", False):
        return
    models.copy = _KeepTables  # type: ignore[assignment]
    for name in WRITES:
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items = _transactional(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    DynamoDBBackend._saves_own_items = True  # type: ignore[attr-defined]


if __name__ == "__main__":
    from moto.server import main

    install()
    main(sys.argv[1:])
