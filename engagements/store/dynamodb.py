"""The cloud backend: the single table in DynamoDB, through boto3's low-level client.

Any endpoint works: AWS with the standard credential chain, DynamoDB Local, moto. Writes pass the embedded
backend's own validation and values go through boto3's TypeSerializer, numbers coming back as int, so an
item reads back identically (==) from either backend and a cloud sync is a plain copy.

boto3 blocks, so every call runs on the store's own threads. botocore's retries are off: its standard
mode backs off from about a second, too slow for a live game, so throttling is retried here from 50 ms
with full jitter. Only failures that cannot have written anything are retried (throttling, a refused
connection, a transaction canceled by a conflict), plus the 500s that DynamoDB asks clients to retry.

Not every DynamoDB-compatible server has every operation (some have no transactions). `open` checks that
the endpoint has the ones the store cannot do without, and an operation an endpoint lacks later on is
logged as such and raised as `Unsupported`, never retried or passed off as a passing fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
)
from botocore.parsers import ResponseParserError

from .base import (
    GSI1,
    GSI1PK,
    GSI1SK,
    MAX_BATCH_ITEMS,
    PK,
    SK,
    Condition,
    ConditionFailed,
    Delete,
    Item,
    Key,
    Page,
    Put,
    Store,
    StoreError,
    TransactionCanceled,
    Update,
    Write,
    absent,
    is_expired,
    now_epoch,
)
from .rules import check_value, distinct, holds, transaction, validate
from .schema import schema_problems

log = logging.getLogger(__name__)

THREADS = 16
MAX_ATTEMPTS = 8
BACKOFF_BASE = 0.05  # seconds before the first retry, at most; doubled each time up to BACKOFF_CAP
BACKOFF_CAP = 1.0
CONFIG = Config(
    retries={"total_max_attempts": 1},
    max_pool_connections=THREADS,
    connect_timeout=5,
    read_timeout=20,
)
RETRIED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
# A transaction canceled only for these reasons wrote nothing and may simply be sent again.
RETRIED_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
CHECK_FAILED = "ConditionalCheckFailed"
# How servers without an operation say so: AWS's own code for it, a 501, or a validation error saying so.
UNKNOWN_OPERATION = frozenset(
    {"UnknownOperationException", "UnknownOperation", "InvalidAction", "NotImplemented"}
)
UNSUPPORTED_WORDS = ("unsupported", "not supported", "not implemented", "unknown operation")
PROBE_KEY = {PK: {"S": "PROBE#engagements"}, SK: {"S": "PROBE"}}  # never written: a condition check only

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _value(value: Any) -> Any:
    """Numbers come back as Decimal; items only ever hold ints."""
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise StoreError(f"the table holds {value}, but items only hold whole numbers")
        return int(value)
    if isinstance(value, list):
        return [_value(element) for element in value]
    if isinstance(value, dict):
        return {name: _value(element) for name, element in value.items()}
    return value


def _item(raw: dict[str, Any]) -> Item:
    return {name: _value(_deserializer.deserialize(value)) for name, value in raw.items()}


def _wire(item: Item) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {PK: {"S": pk}, SK: {"S": sk}}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _reasons(error: ClientError) -> list[str | None]:
    codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
    return [None if code in (None, "None") else code for code in codes]


class Unsupported(StoreError):
    """The endpoint lacks an operation the store needs: no retry can help, only another endpoint."""


def _unsupported(error: ClientError) -> bool:
    """The endpoint says it lacks the operation, not that something about the request was wrong."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    message = str(error.response.get("Error", {}).get("Message", "")).lower()
    if _code(error) in UNKNOWN_OPERATION or status == 501:
        return True
    operation = str(error.operation_name).lower()
    said = any(w in message for w in UNSUPPORTED_WORDS) and ("operation" in message or operation in message)
    return _code(error) == "ValidationException" and said


def _retryable(error: Exception) -> bool:
    if isinstance(error, EndpointConnectionError):  # also connect timeouts: nothing was sent
        return True
    if not isinstance(error, ClientError):
        return False
    if _code(error) == "TransactionCanceledException":
        reasons = {reason for reason in _reasons(error) if reason is not None}
        return bool(reasons) and reasons <= RETRIED_REASONS
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return _code(error) in RETRIED or status >= 500


class _Expression:
    """The placeholders of one request. Every attribute name is aliased: `ttl` is a reserved word."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}

    def name(self, attr: str) -> str:
        return self._names.setdefault(attr, f"#n{len(self._names)}")

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = _serializer.serialize(value)
        return placeholder

    def condition(self, condition: Condition) -> str:
        clauses = []
        for cond in condition:
            if cond.kind == "absent":
                clauses.append(f"attribute_not_exists({self.name(cond.attr)})")
            elif cond.kind == "present":
                clauses.append(f"attribute_exists({self.name(cond.attr)})")
            elif cond.kind == "equals":  # DynamoDB never finds values of two types equal; emulators may
                check_value(cond.value)
                name, value = self.name(cond.attr), self.value(cond.value)
                kind = self.value(next(iter(self._values[value])))
                clauses.append(f"attribute_type({name}, {kind}) AND {name} = {value}")
            elif cond.kind == "below":
                check_value(cond.value)
                name, value = self.name(cond.attr), self.value(cond.value)
                clauses.append(f"(attribute_not_exists({name}) OR {name} < {value})")
            elif cond.kind == "at_least":
                check_value(cond.value)
                name, value = self.name(cond.attr), self.value(cond.value)
                number = self.value("N")  # DynamoDB never orders values of two types; emulators may
                clauses.append(f"attribute_type({name}, {number}) AND {name} >= {value}")
            else:
                raise ValueError(f"unknown condition {cond!r}")
        return " AND ".join(clauses)

    def update(self, update: Update) -> str:
        clauses = []
        if update.set:
            pairs = (f"{self.name(a)} = {self.value(v)}" for a, v in update.set.items())
            clauses.append("SET " + ", ".join(pairs))
        if update.add:
            pairs = (f"{self.name(a)} {self.value(n)}" for a, n in update.add.items())
            clauses.append("ADD " + ", ".join(pairs))
        if update.remove:
            clauses.append("REMOVE " + ", ".join(self.name(a) for a in update.remove))
        return " ".join(clauses)

    def params(self, **expressions: str) -> dict[str, Any]:
        """The request parameters: the non-empty expressions and the placeholders they use."""
        params: dict[str, Any] = {name: text for name, text in expressions.items() if text}
        if self._names:
            params["ExpressionAttributeNames"] = {alias: attr for attr, alias in self._names.items()}
        if self._values:
            params["ExpressionAttributeValues"] = self._values
        return params


class DynamoStore(Store):
    """Create it with `await DynamoStore.open(table, endpoint_url=..., region=..., session=...)`.

    Calls run concurrently on the store's threads, so writes that are not awaited one by one may land in
    any order: `ordered_writes` stays False.
    """

    def __init__(self, client: Any, table: str) -> None:
        self.table = table
        self._client = client
        self._threads = ThreadPoolExecutor(THREADS, "store-dynamodb")
        self._closed = False

    @property
    def client(self) -> Any:
        """The boto3 client, for instrumentation (tests count its calls through its event hooks)."""
        return self._client

    @classmethod
    async def open(
        cls,
        table: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        session: boto3.Session | None = None,
    ) -> DynamoStore:
        """Checks that the table exists with the keys and index the store relies on."""

        def connect() -> Any:  # creating a client reads config files and service models
            return (session or boto3.Session()).client(
                "dynamodb", endpoint_url=endpoint_url, region_name=region, config=CONFIG
            )

        try:
            client = await asyncio.to_thread(connect)
        except NoRegionError:
            raise StoreError("no AWS region configured: pass a region or set AWS_REGION") from None
        except (BotoCoreError, ValueError) as e:  # a malformed region or endpoint URL
            raise StoreError(f"cannot use DynamoDB at {endpoint_url or 'AWS'}: {e}") from None
        store = cls(client, table)
        try:
            try:
                description = (await store._call("describe_table", TableName=table))["Table"]
            except ValueError as e:  # DynamoDB's ValidationException: a malformed table name, say
                raise StoreError(f"DynamoDB refused table {table!r}: {e}") from None
            problems = schema_problems(description)
            if problems:
                raise StoreError(f"table {table} has the wrong schema: {'; '.join(problems)}")
            await store._probe_transactions()
        except BaseException:
            await store.close()
            raise
        return store

    async def _probe_transactions(self) -> None:
        """Games are written in transactions: an endpoint without them is refused at once, not per game."""
        check = {"TableName": self.table, "Key": PROBE_KEY, "ConditionExpression": "attribute_not_exists(#k)"}
        check["ExpressionAttributeNames"] = {"#k": PK}
        with contextlib.suppress(TransactionCanceled):  # the probe's key exists: so does the operation
            await self._call("transact_write_items", TransactItems=[{"ConditionCheck": check}], probe=True)

    async def _call(self, operation: str, *, probe: bool = False, **params: Any) -> dict[str, Any]:
        """One API call on the store's threads, retried while DynamoDB says to, errors translated.

        An operation the endpoint lacks is logged, except by the probe in `open`, whose error is the
        command's own one-line message.
        """
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            if self._closed:
                raise StoreError("store is closed")
            try:
                # in the caller's context, as asyncio.to_thread would: logging and tracing context
                # (and a bench's per-invocation counters) follow the call onto the store's threads
                call = partial(contextvars.copy_context().run, getattr(self._client, operation), **params)
                return await loop.run_in_executor(self._threads, call)
            except ClientError as error:
                if _code(error) == "ConditionalCheckFailedException":
                    raise ConditionFailed(await self._stored(error, params)) from None
                failure: Exception = error
            except (BotoCoreError, ResponseParserError) as error:
                failure = error
            if isinstance(failure, ClientError) and _unsupported(failure):
                url, name = self._client.meta.endpoint_url, failure.operation_name
                unsupported = Unsupported(
                    f"DynamoDB at {url} does not support {name}, which the store needs: "
                    "use AWS, DynamoDB Local or another endpoint that has it"
                )
                if not probe:
                    log.error("%s", unsupported)
                raise unsupported from failure
            attempt += 1
            if attempt == MAX_ATTEMPTS or not _retryable(failure):
                raise self._translate(failure) from failure
            await asyncio.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))))

    async def _stored(self, error: ClientError, params: dict[str, Any]) -> Item | None:
        """What a failed condition found: from ALL_OLD, or read back where the endpoint omits it."""
        if "Item" in error.response:
            return _item(error.response["Item"])
        key = params.get("Key") or {PK: params["Item"][PK], SK: params["Item"][SK]}
        reply = await self._call("get_item", TableName=self.table, Key=key, ConsistentRead=True)
        return _item(reply["Item"]) if "Item" in reply else None

    def _translate(self, error: Exception) -> Exception:
        url = self._client.meta.endpoint_url
        if isinstance(error, NoCredentialsError):
            return StoreError("no AWS credentials found")
        if isinstance(error, EndpointConnectionError | HTTPClientError):  # refused, cut off, timed out
            return StoreError(f"cannot reach DynamoDB at {url}")
        if isinstance(error, ResponseParserError):
            return StoreError(f"DynamoDB at {url} gave an answer that is not DynamoDB's")
        if not isinstance(error, ClientError):
            return StoreError(f"DynamoDB at {url}: {error}")
        code, message = _code(error), error.response.get("Error", {}).get("Message", "")
        if code == "ResourceNotFoundException":
            return StoreError(f"no such table {self.table}")
        if code == "TransactionCanceledException":
            reasons = _reasons(error)
            if CHECK_FAILED in reasons:
                return TransactionCanceled([r if r == CHECK_FAILED else None for r in reasons])
            if "ValidationError" in reasons:  # e.g. ADD to a string: refused as the embedded store does
                return ValueError(message)
        if code == "ValidationException":
            return StoreError(message) if "Item size" in message else ValueError(message)
        if code == "IdempotentParameterMismatchException":
            return StoreError("IdempotentParameterMismatch")
        return StoreError(f"DynamoDB {code}: {message}")

    async def get(self, pk: str, sk: str) -> Item | None:
        reply = await self._call("get_item", TableName=self.table, Key=_key(pk, sk), ConsistentRead=True)
        item = _item(reply["Item"]) if "Item" in reply else None
        return None if item is None or is_expired(item) else item

    async def put(self, item: Item, condition: Condition = ()) -> None:
        validate(Put(item, condition))
        await self._call(
            "put_item", **self._put(item, condition), ReturnValuesOnConditionCheckFailure="ALL_OLD"
        )

    def _put(self, item: Item, condition: Condition) -> dict[str, Any]:
        expression = _Expression()
        check = expression.condition(condition)
        return {"TableName": self.table, "Item": _wire(item), **expression.params(ConditionExpression=check)}

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
        update = validate(Update(pk, sk, set or {}, add or {}, tuple(remove), condition)).update
        assert update is not None
        params = self._update(update)
        if "UpdateExpression" not in params:
            return await self._touch(pk, sk, condition)
        reply = await self._call(
            "update_item", **params, ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD"
        )
        return _item(reply["Attributes"])

    def _update(self, update: Update) -> dict[str, Any]:
        expression = _Expression()
        action = expression.update(update)
        check = expression.condition(update.condition)
        return {
            "TableName": self.table,
            "Key": _key(update.pk, update.sk),
            **expression.params(UpdateExpression=action, ConditionExpression=check),
        }

    async def _touch(self, pk: str, sk: str, condition: Condition) -> Item:
        """An update that changes nothing still creates a missing item.

        UpdateItem does that without an UpdateExpression on AWS, but not on every emulator, so this puts
        the bare key where nothing is stored and otherwise checks `condition` on what is.
        """
        try:
            await self.put({PK: pk, SK: sk}, absent() + condition)
        except ConditionFailed as failed:
            if failed.item is None or not holds(condition, failed.item):
                raise
            return failed.item
        return {PK: pk, SK: sk}

    async def delete(self, pk: str, sk: str, condition: Condition = ()) -> None:
        validate(Delete(pk, sk, condition))
        await self._call(
            "delete_item", **self._delete(pk, sk, condition), ReturnValuesOnConditionCheckFailure="ALL_OLD"
        )

    def _delete(self, pk: str, sk: str, condition: Condition) -> dict[str, Any]:
        expression = _Expression()
        check = expression.condition(condition)
        return {"TableName": self.table, "Key": _key(pk, sk), **expression.params(ConditionExpression=check)}

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
        """Table queries read consistently; DynamoDB offers only eventual consistency on GSI1."""
        if index not in (None, GSI1):
            raise ValueError(f"no index {index!r}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be positive, not {limit}")
        hash_attr, range_attr = (PK, SK) if index is None else (GSI1PK, GSI1SK)
        expression = _Expression()
        key_condition = f"{expression.name(hash_attr)} = {expression.value(pk)}"
        if prefix:
            key_condition += f" AND begins_with({expression.name(range_attr)}, {expression.value(prefix)})"
        params = expression.params(KeyConditionExpression=key_condition)
        params.update(TableName=self.table, ScanIndexForward=not reverse)
        if index is None:
            params["ConsistentRead"] = True
        else:
            params["IndexName"] = index
        if limit is not None:
            params["Limit"] = limit
        if start_key:
            params["ExclusiveStartKey"] = _wire(start_key)
        reply = await self._call("query", **params)
        now = now_epoch()
        items = [item for item in map(_item, reply["Items"]) if not is_expired(item, now)]
        last = reply.get("LastEvaluatedKey")
        return Page(items, _item(last) if last else None)

    async def transact_write(self, writes: Sequence[Write], token: str | None = None) -> None:
        transaction(writes)
        actions = []
        for write in writes:
            if isinstance(write, Put):
                actions.append({"Put": self._put(write.item, write.condition)})
            elif isinstance(write, Update):
                actions.append({"Update": self._update(write)})
            else:
                actions.append({"Delete": self._delete(write.pk, write.sk, write.condition)})
        params: dict[str, Any] = {"TransactItems": actions}
        if token is not None:
            params["ClientRequestToken"] = token
        await self._call("transact_write_items", **params)
        log.debug("store committed %d writes", len(actions))  # with the command's ids (its context)

    async def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> list[Write]:
        """Returns what DynamoDB left unprocessed, for the caller to send again after a pause."""
        ops = [validate(Put(item)) for item in puts] + [validate(Delete(key[PK], key[SK])) for key in deletes]
        distinct(ops, MAX_BATCH_ITEMS, "a batch")
        requests = [{"PutRequest": {"Item": _wire(item)}} for item in puts]
        requests += [{"DeleteRequest": {"Key": _key(key[PK], key[SK])}} for key in deletes]
        reply = await self._call("batch_write_item", RequestItems={self.table: requests})
        unprocessed: list[Write] = []
        for request in reply.get("UnprocessedItems", {}).get(self.table, []):
            if "PutRequest" in request:
                unprocessed.append(Put(_item(request["PutRequest"]["Item"])))
            else:
                key = _item(request["DeleteRequest"]["Key"])
                unprocessed.append(Delete(key[PK], key[SK]))
        return unprocessed

    async def close(self) -> None:
        """Lets calls in flight finish, then closes the client's connections."""
        if not self._closed:
            self._closed = True
            await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._threads.shutdown()
        self._client.close()
