"""What both backends accept, checked the same way, and the canonical encoding of an item.

DynamoDB refuses some values and writes that SQLite would happily store; checking them here, for both
backends, means a game that runs on the appliance can always be synced to the cloud.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .base import (
    GSI1PK,
    GSI1SK,
    MAX_ITEM_BYTES,
    MAX_TRANSACT_ITEMS,
    PK,
    SK,
    TTL,
    Condition,
    Item,
    Put,
    StoreError,
    Update,
    Write,
)

MAX_DEPTH = 32  # DynamoDB's nesting limit; also keeps validation clear of RecursionError
INT64 = 2**63
MAX_NUMBER = 10**38  # DynamoDB keeps 38 digits; boto3 refuses to round an int that has more
KEY_BYTES = {PK: 2048, SK: 1024, GSI1PK: 2048, GSI1SK: 1024}  # DynamoDB's limits on key values
Row = tuple[str, str, str | None, str | None, int | None, str]


def encode(value: Any) -> str:
    """Sorted keys make equal items byte-identical, which `equals` and the sync rely on."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def check_value(value: Any, depth: int = 0) -> None:
    """Only values that survive a DynamoDB round trip unchanged; a float would come back a Decimal."""
    if depth > MAX_DEPTH:
        raise ValueError(f"items nest at most {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if not -MAX_NUMBER < value < MAX_NUMBER:
            raise ValueError(f"numbers have at most 38 digits, not {len(str(abs(value)))}")
        return
    if isinstance(value, list):
        for element in value:
            check_value(element, depth + 1)
    elif isinstance(value, dict):
        for name, element in value.items():
            if not isinstance(name, str):
                raise ValueError(f"attribute names are strings, not {name!r}")
            check_value(element, depth + 1)
    else:
        raise ValueError(f"items hold str, int, bool, None, list and dict, not {type(value).__name__}")


def check_key_value(attr: str, value: Any) -> None:
    if not (isinstance(value, str) and value):
        raise ValueError(f"{attr} must be a non-empty string, not {value!r}")
    if len(value.encode()) > KEY_BYTES[attr]:
        raise ValueError(f"{attr} is over {KEY_BYTES[attr]} bytes")


def check_key(pk: Any, sk: Any) -> tuple[str, str]:
    check_key_value(PK, pk)
    check_key_value(SK, sk)
    return pk, sk


def encode_row(item: Item) -> Row:
    """Validates an item and encodes it, so a caller may go on mutating its dict at once."""
    pk, sk = check_key(item.get(PK), item.get(SK))
    for attr in (GSI1PK, GSI1SK):
        if attr in item:
            check_key_value(attr, item[attr])
    check_value(item)
    body = encode(item)
    if len(body.encode()) > MAX_ITEM_BYTES:
        raise StoreError(f"item {pk} {sk} is over {MAX_ITEM_BYTES} bytes")
    indexed = GSI1PK in item and GSI1SK in item  # DynamoDB indexes an item only if it has both keys
    ttl = item.get(TTL)
    if not isinstance(ttl, int) or isinstance(ttl, bool):  # DynamoDB ignores a TTL that is not a number
        ttl = None
    elif not -INT64 <= ttl < INT64:  # the column is 64-bit; clamping keeps ttl <= now exact
        ttl = min(max(ttl, -INT64), INT64 - 1)
    return pk, sk, item[GSI1PK] if indexed else None, item[GSI1SK] if indexed else None, ttl, body


def checked_update(update: Update) -> Update:
    """Refuses what DynamoDB's UpdateItem refuses, and copies `set` so later mutation cannot leak in."""
    check_key(update.pk, update.sk)
    names = [*update.set, *update.add, *update.remove]
    if PK in names or SK in names:
        raise ValueError(f"an update cannot change {PK} or {SK}")
    if len(set(names)) < len(names):
        raise ValueError(f"an update names an attribute twice: {names}")
    for name, amount in update.add.items():
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise ValueError(f"ADD takes an int, not {amount!r} for {name}")
    check_value(update.set)
    return Update(
        update.pk,
        update.sk,
        json.loads(encode(update.set)),
        dict(update.add),
        tuple(update.remove),
        update.condition,
    )


@dataclass(frozen=True, slots=True)
class Op:
    """A validated write: a put carries its encoded row, an update its checked copy, a delete neither."""

    key: tuple[str, str]
    condition: Condition
    row: Row | None = None
    update: Update | None = None


def validate(write: Write) -> Op:
    if isinstance(write, Put):
        row = encode_row(write.item)
        return Op(row[:2], write.condition, row=row)
    if isinstance(write, Update):
        return Op((write.pk, write.sk), write.condition, update=checked_update(write))
    return Op(check_key(write.pk, write.sk), write.condition)


def distinct(ops: list[Op], limit: int, what: str) -> None:
    if not 1 <= len(ops) <= limit:
        raise ValueError(f"{what} takes 1 to {limit} writes, not {len(ops)}")
    if len({op.key for op in ops}) < len(ops):
        raise ValueError(f"{what} names one item twice")


def transaction(writes: Sequence[Write]) -> list[Op]:
    """DynamoDB's UpdateExpression is optional for UpdateItem but required in TransactWriteItems."""
    ops = [validate(write) for write in writes]
    distinct(ops, MAX_TRANSACT_ITEMS, "a transaction")
    for op in ops:
        if op.update is not None and not (op.update.set or op.update.add or op.update.remove):
            raise ValueError("an update in a transaction must set, add or remove something")
    return ops


def holds(condition: Condition, item: Item | None) -> bool:
    """Against the stored item, expired or not: DynamoDB's conditions see items until they are deleted."""
    for cond in condition:
        if cond.kind == "absent":
            ok = item is None or cond.attr not in item
        elif cond.kind == "present":
            ok = item is not None and cond.attr in item
        elif cond.kind == "equals":  # compared as JSON, so True never equals 1 (DynamoDB types differ)
            ok = item is not None and cond.attr in item and encode(item[cond.attr]) == encode(cond.value)
        elif cond.kind == "below":
            ok = item is None or cond.attr not in item or item[cond.attr] < cond.value
        elif cond.kind == "at_least":
            found = None if item is None else item.get(cond.attr)  # DynamoDB compares numbers only
            ok = isinstance(found, int) and not isinstance(found, bool) and found >= cond.value
        else:
            raise ValueError(f"unknown condition {cond!r}")
        if not ok:
            return False
    return True
