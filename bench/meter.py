"""DynamoDB reads and writes charged to the invocation that made them, for the cloud benchmark.

The handlers' DynamoDB client is watched through botocore's event hooks (real calls to moto, nothing
stubbed). Each call is charged to the Lambda invocation running it (`tests.cloudlocal.lambdas.INVOCATION`,
which follows the call onto the store's threads), and each invocation is labelled by what it served: a
WebSocket message by its `type` (`hello`, `answer`, `vote`, `start`…), an HTTP request by its route
(`POST /api/join`), otherwise by its function (`deadline`, `fanout`, `connect`, `disconnect`).

Items are counted as in tests/cloudgame.py (items a read returned, items a write named), but a write the
table refused (a condition, a transaction conflict: the command then retries) is counted apart. Capacity units
follow DynamoDB's on-demand rules: a strongly consistent read is one unit per started 4 KB of what it
returned (a Query sums its items first; eventually consistent reads, GSI1's, cost half), at least one
unit even when nothing is found; a write is one unit per started 1 KB of the item, two in a transaction.
A Put's item is in the request and is sized there; an Update, Delete or ConditionCheck names only a key,
so that item is sized from the table when the summary is made (an upper bound for an item that only
grows, such as META), and an item deleted by then is taken as 1 KB (connections are far smaller).
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.cloudlocal.lambdas import INVOCATION, Invocation

Key = tuple[str, str]  # (PK, SK)


def value_size(value: dict[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value in wire format (its item size rules)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = Decimal(v).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(e) for e in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(e) for k, e in v.items())
    if kind == "SS":
        return sum(len(e.encode()) for e in v)
    if kind == "NS":
        return sum(value_size({"N": e}) for e in v)
    return sum(len(e) for e in v)  # BS


def item_size(item: Mapping[str, dict[str, Any]]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def key_of(key: Mapping[str, dict[str, Any]]) -> Key:
    return key["PK"]["S"], key["SK"]["S"]


def label_of(invocation: Invocation, handler: str) -> str:
    """What an invocation served, from its function's `Handler` and its event."""
    event = invocation.event
    if handler.endswith("websocket.default"):
        try:
            body = json.loads(event.get("body") or "{}")
            kind = body.get("type")
        except (ValueError, AttributeError):
            kind = None
        if kind == "hello":  # a phone's and a board view's hello read differently (cloud.phones)
            return f"hello {body.get('view')}"
        return kind if isinstance(kind, str) else "?"
    if handler.endswith("http.handler"):
        return str(event.get("routeKey", "http"))
    module, function = handler.rsplit(".", 1)
    return module.rsplit(".", 1)[-1] if function == "handler" else function  # fanout, deadline; connect…


@dataclass
class Use:
    """What one invocation did to the table."""

    label: str
    calls: int = 0
    reads: int = 0  # items returned
    read_units: float = 0.0
    writes: int = 0  # items written by calls that succeeded
    write_units: float = 0.0  # those sized from the request
    later: list[tuple[Key, int]] = field(default_factory=list)  # (key, 1 or 2 for a transaction)
    refused: int = 0  # items of writes refused (a condition, a transaction conflict): then retried


class Meter:
    """Install with `watch(client)`; `summary(sizes)` once the run is over."""

    def __init__(self, handlers: Mapping[str, str]) -> None:
        self.handlers = dict(handlers)  # function name -> its Handler string
        self.uses: dict[str, Use] = {}  # by request id
        self.outside = Use("outside an invocation")
        self._lock = threading.Lock()
        self._pending = threading.local()  # the request's parameters, from before the call to after it

    def watch(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _use(self) -> Use:
        invocation = INVOCATION.get()
        if invocation is None:
            return self.outside
        with self._lock:
            use = self.uses.get(invocation.request_id)
            if use is None:
                handler = self.handlers.get(invocation.function, invocation.function)
                use = self.uses[invocation.request_id] = Use(label_of(invocation, handler))
            return use

    def label(self, request_id: str, function: str) -> str:
        """What an invocation served (its label), or its function's handler if it never reached the table."""
        use = self.uses.get(request_id)
        return use.label if use is not None else self.handlers.get(function, function)

    def _before(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        """The call's parameters, and the items it would write, kept until its reply says whether it did."""
        writes: list[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, int]] = []  # item, key, factor
        if model.name == "PutItem":
            writes.append((params["Item"], None, 1))
        elif model.name in ("UpdateItem", "DeleteItem"):
            writes.append((None, params["Key"], 1))
        elif model.name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for r in requests:
                    put = r.get("PutRequest")
                    writes.append((put["Item"], None, 1) if put else (None, r["DeleteRequest"]["Key"], 1))
        elif model.name == "TransactWriteItems":
            for action in params["TransactItems"]:
                ((kind, body),) = action.items()
                writes.append((body["Item"], None, 2) if kind == "Put" else (None, body["Key"], 2))
        self._pending.call = (params, writes)

    def _after(self, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        params, writes = getattr(self._pending, "call", ({}, []))
        use = self._use()
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        with self._lock:
            use.calls += 1
            if "Error" in parsed:  # a refused condition or a conflict: the command retries
                use.refused += len(writes)
                return
            for item, key, times in writes:
                use.writes += 1
                if item is not None:
                    use.write_units += times * max(1, math.ceil(item_size(item) / 1024))
                else:
                    use.later.append((key_of(key), times))
            if model.name == "GetItem":
                found = parsed.get("Item")
                use.reads += found is not None
                use.read_units += factor * max(1, math.ceil(item_size(found or {}) / 4096))
            elif model.name == "Query":
                use.reads += parsed.get("Count", 0)
                size = sum(item_size(item) for item in parsed.get("Items", []))
                use.read_units += factor * max(1, math.ceil(size / 4096))

    def summary(self, sizes: Callable[[], Mapping[Key, int]]) -> dict[str, dict[str, Any]]:
        """Per label: invocations, then per invocation the most frequent value (`typical`), the mean,
        the fewest and the largest of: calls, items read, read units, items written, write units and
        items refused. `sizes` gives the table's items' sizes now (called only if a write named a key)."""
        found = sizes() if any(u.later for u in self.uses.values()) else {}
        by_label: dict[str, list[Use]] = defaultdict(list)
        for use in self.uses.values():
            by_label[use.label].append(use)
        out: dict[str, dict[str, Any]] = {}
        for label, uses in sorted(by_label.items()):
            rows = [
                {
                    "calls": u.calls,
                    "reads": u.reads,
                    "read_units": u.read_units,
                    "writes": u.writes,
                    "write_units": u.write_units
                    + sum(f * max(1, math.ceil(found.get(k, 1024) / 1024)) for k, f in u.later),
                    "refused": u.refused,
                }
                for u in uses
            ]
            out[label] = {"invocations": len(rows)}
            for name in rows[0]:
                values = [r[name] for r in rows]
                counts = Counter(values)
                out[label][name] = {
                    "typical": max(counts, key=lambda v: (counts[v], -v)),
                    "mean": round(sum(values) / len(values), 2),
                    "min": min(values),
                    "max": max(values),
                    "spread": {str(v): n for v, n in sorted(counts.items())},  # value: invocations
                }
        return out
