"""The embedded backend: the single table in one SQLite file.

Venues lose power, so a write is acknowledged only once its COMMIT is on disk (WAL with
synchronous=FULL). One fsync per write would cap the appliance at a few hundred writes a second, so a
single writer thread group-commits: it takes every job waiting in its queue, runs each inside its own
SAVEPOINT (a failed condition undoes only that job) and pays one COMMIT for all of them. Jobs run in
the order they were submitted, which callers rely on. No sqlite3 call ever runs on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import queue
import sqlite3
import stat
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from .base import (
    GSI1,
    GSI1PK,
    GSI1SK,
    MAX_BATCH_ITEMS,
    MAX_PAGE_BYTES,
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
    is_expired,
    now_epoch,
)
from .rules import Op, distinct, encode, encode_row, holds, transaction, validate

log = logging.getLogger(__name__)

T = TypeVar("T")

GROUP_COMMIT_MAX = 500
READER_THREADS = 4
TOKEN_WINDOW = 600  # seconds DynamoDB remembers a ClientRequestToken

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL, sk TEXT NOT NULL, gsi1pk TEXT, gsi1sk TEXT, ttl INTEGER, body TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
"""
_UPSERT = "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, ttl, body) VALUES (?, ?, ?, ?, ?, ?)"


def _load(conn: sqlite3.Connection, pk: str, sk: str) -> Item | None:
    found = conn.execute("SELECT body FROM items WHERE pk = ? AND sk = ?", (pk, sk)).fetchone()
    return None if found is None else json.loads(found[0])


def _updated(current: Item | None, update: Update) -> Item:
    item = dict(current) if current is not None else {PK: update.pk, SK: update.sk}
    item.update(update.set)
    for name, amount in update.add.items():
        value = item.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"ADD needs a number but {name} holds {value!r}")
        item[name] = value + amount
    for name in update.remove:
        item.pop(name, None)
    return item


def _apply(conn: sqlite3.Connection, op: Op, current: Item | None) -> Item | None:
    """Writes `op` over `current`; returns the item an update leaves behind."""
    if op.update is not None:
        item = _updated(current, op.update)
        conn.execute(_UPSERT, encode_row(item))
        return item
    if op.row is not None:
        conn.execute(_UPSERT, op.row)
    else:
        conn.execute("DELETE FROM items WHERE pk = ? AND sk = ?", op.key)
    return None


def _write(conn: sqlite3.Connection, op: Op) -> Item | None:
    current = _load(conn, *op.key)
    if not holds(op.condition, current):
        raise ConditionFailed(current)
    return _apply(conn, op, current)


def _owner_only(path: Path) -> None:
    """The database holds game and webhook secrets: made with mode 0600 (SQLite gives its -wal and -shm
    files the database's mode), and tightened to it if someone loosened it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
    except OSError:
        pass  # a directory we cannot write: sqlite3 says so in its own words


def _successor(prefix: str) -> str | None:
    """The least string above every string starting with `prefix` (None: no bound is needed).

    SQLite compares TEXT as UTF-8 bytes, like DynamoDB, and UTF-8 byte order is code point order.
    """
    stem = prefix.rstrip("\U0010ffff")
    if not stem:
        return None
    after = ord(stem[-1]) + 1
    return stem[:-1] + chr(0xE000 if after == 0xD800 else after)  # surrogates cannot be stored


def _page(conn: sqlite3.Connection, sql: str, args: list[Any], limit: int | None, index: str | None) -> Page:
    """Like DynamoDB, `limit` and the 1 MB cap count items read; expired ones are dropped afterwards."""
    now = now_epoch()
    items: list[Item] = []
    size = count = 0
    with closing(conn.execute(sql, args)) as rows:
        for pk, sk, gsi1pk, gsi1sk, body in rows:
            count += 1
            size += len(body.encode())
            item = json.loads(body)
            if not is_expired(item, now):
                items.append(item)
            if count == limit or size >= MAX_PAGE_BYTES:
                key = {PK: pk, SK: sk} if index is None else {PK: pk, SK: sk, GSI1PK: gsi1pk, GSI1SK: gsi1sk}
                return Page(items, key)
    return Page(items, None)


@dataclass(frozen=True, slots=True)
class _Job:
    run: Callable[[sqlite3.Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


def _settle_all(settled: list[tuple[asyncio.Future[Any], Any, Exception | None]]) -> None:
    """Resolve one commit's futures, in the order their jobs were queued."""
    for future, result, error in settled:
        if future.cancelled():  # the caller gave up waiting; the write itself may still have happened
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class SQLiteStore(Store):
    """The default backend. Create it with `await SQLiteStore.open(path)`.

    `commits` counts COMMITs, so tests and metrics can see how many writes share one.
    """

    ordered_writes = True  # one writer thread takes jobs first in, first out

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.commits = 0
        self._closed = True
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._readers = ThreadPoolExecutor(READER_THREADS, "store-read", initializer=self._open_reader)
        # ClientRequestToken -> (expiry, digest of writes); only the writer thread touches these.
        self._tokens: dict[str, tuple[int, str]] = {}
        self._batch_tokens: dict[str, tuple[int, str]] = {}

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteStore:
        store = cls(path)
        conn = await asyncio.to_thread(store._connect, writer=True)
        store._writer = threading.Thread(target=store._write_loop, args=(conn,), name="store-write")
        store._writer.daemon = True  # at exit, unacknowledged jobs may be lost; acknowledged ones are on disk
        store._writer.start()
        store._closed = False
        return store

    def _connect(self, *, writer: bool) -> sqlite3.Connection:
        if writer:
            _owner_only(self.path)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        if not writer:
            conn.execute("PRAGMA query_only = ON")
            return conn
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            conn.close()
            raise StoreError(f"{self.path}: the filesystem does not support SQLite's WAL")
        conn.execute("PRAGMA synchronous = FULL")  # in WAL mode only FULL makes each COMMIT durable
        conn.execute("PRAGMA fullfsync = ON")  # macOS: a plain fsync stops at the drive's cache
        conn.executescript(_SCHEMA)
        return conn

    def _open_reader(self) -> None:
        self._local.conn = self._connect(writer=False)
        self._read_conns.append(self._local.conn)

    async def _read(self, run: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreError("store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._readers, lambda: run(self._local.conn))

    def _submit(self, run: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queues a write job now, before the caller's first await, which is what keeps writes FIFO."""
        if self._closed:
            raise StoreError("store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(run, loop, future))
        return future

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        with closing(conn):
            while True:
                batch = [self._jobs.get()]
                while len(batch) < GROUP_COMMIT_MAX and not self._jobs.empty():
                    batch.append(self._jobs.get_nowait())
                stopping = batch[-1] is None  # close() queues None last, after refusing new jobs
                jobs = [job for job in batch if job is not None]
                if jobs:
                    self._commit(conn, jobs)
                if stopping:
                    return

    def _commit(self, conn: sqlite3.Connection, jobs: list[_Job]) -> None:
        outcomes: list[tuple[Any, Exception | None]] = []
        self._batch_tokens = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in jobs:
                conn.execute("SAVEPOINT job")
                try:
                    outcomes.append((job.run(conn), None))
                except Exception as error:
                    conn.execute("ROLLBACK TO job")
                    outcomes.append((None, error))
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except sqlite3.Error as error:  # the database itself failed: nothing in this batch was written
            if conn.in_transaction:
                with suppress(sqlite3.Error):  # SQLite may already have rolled back on its own
                    conn.execute("ROLLBACK")
            outcomes = [(None, StoreError(f"write not committed: {error}")) for _ in jobs]
        else:
            self.commits += 1
            if self._batch_tokens:
                now = now_epoch()
                merged = self._tokens | self._batch_tokens
                self._tokens = {token: seen for token, seen in merged.items() if seen[0] > now}
        # One wake-up of each caller's loop per commit, not per job: a burst of answers shares commits,
        # and waking the loop once for each of them cost the loop (and the GIL) more than the commit.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Exception | None]]] = {}
        for job, (result, error) in zip(jobs, outcomes, strict=True):
            by_loop.setdefault(job.loop, []).append((job.future, result, error))
        for loop, settled in by_loop.items():
            with suppress(RuntimeError):  # the caller's loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle_all, settled)

    async def get(self, pk: str, sk: str) -> Item | None:
        item = await self._read(lambda conn: _load(conn, pk, sk))
        return None if item is None or is_expired(item) else item

    async def put(self, item: Item, condition: Condition = ()) -> None:
        op = validate(Put(item, condition))
        await self._submit(lambda conn: _write(conn, op))

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
        op = validate(Update(pk, sk, set or {}, add or {}, tuple(remove), condition))
        item = await self._submit(lambda conn: _write(conn, op))
        assert item is not None  # an update always leaves an item
        return item

    async def delete(self, pk: str, sk: str, condition: Condition = ()) -> None:
        op = validate(Delete(pk, sk, condition))
        await self._submit(lambda conn: _write(conn, op))

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
        """`start_key` must be a `next_key` of the same query; pages resume strictly after it."""
        if index is None:
            hash_col, cols, start_attrs = "pk", ("sk",), (SK,)
        elif index == GSI1:  # equal GSI1SKs are ordered by the table key, so next_key is unambiguous
            hash_col, cols, start_attrs = "gsi1pk", ("gsi1sk", "pk", "sk"), (GSI1SK, PK, SK)
        else:
            raise ValueError(f"no index {index!r}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be positive, not {limit}")
        where, args = [f"{hash_col} = ?"], [pk]
        # The start key replaces the prefix bound on its side, so SQLite seeks straight to it.
        lower = prefix if not start_key or reverse else None
        upper = _successor(prefix) if not start_key or not reverse else None
        if lower:
            where.append(f"{cols[0]} >= ?")
            args.append(lower)
        if upper is not None:
            where.append(f"{cols[0]} < ?")
            args.append(upper)
        if start_key:
            where.append(f"({', '.join(cols)}) {'<' if reverse else '>'} ({', '.join('?' * len(cols))})")
            args.extend(start_key[attr] for attr in start_attrs)
        order = ", ".join(f"{col} DESC" if reverse else col for col in cols)
        sql = f"SELECT pk, sk, gsi1pk, gsi1sk, body FROM items WHERE {' AND '.join(where)} ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return await self._read(lambda conn: _page(conn, sql, args, limit, index))

    async def transact_write(self, writes: Sequence[Write], token: str | None = None) -> None:
        ops = transaction(writes)
        request = None
        if token is not None:
            canonical = [{"op": type(write).__name__, **asdict(write)} for write in writes]
            request = token, hashlib.sha256(encode(canonical).encode()).hexdigest()
        await self._submit(lambda conn: self._transact(conn, ops, request))
        log.debug("store committed %d writes", len(ops))  # with the command's ids (its context)

    def _transact(self, conn: sqlite3.Connection, ops: list[Op], request: tuple[str, str] | None) -> None:
        """`request` is (ClientRequestToken, digest of the writes) when the caller gave a token."""
        now = now_epoch()
        if request is not None:
            token, digest = request
            seen = self._batch_tokens.get(token) or self._tokens.get(token)
            if seen is not None and seen[0] > now:
                if seen[1] != digest:
                    raise StoreError("IdempotentParameterMismatch")
                return
        currents = [_load(conn, *op.key) for op in ops]
        reasons = [
            None if holds(op.condition, current) else "ConditionalCheckFailed"
            for op, current in zip(ops, currents, strict=True)
        ]
        if any(reasons):
            raise TransactionCanceled(reasons)
        for op, current in zip(ops, currents, strict=True):
            _apply(conn, op, current)
        if request is not None:  # remembered only once the batch commits
            self._batch_tokens[request[0]] = (now + TOKEN_WINDOW, request[1])

    async def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> list[Write]:
        """Every write is processed, so nothing ever comes back unprocessed."""
        ops = [validate(Put(item)) for item in puts] + [validate(Delete(key[PK], key[SK])) for key in deletes]
        distinct(ops, MAX_BATCH_ITEMS, "a batch")

        def run(conn: sqlite3.Connection) -> None:
            for op in ops:
                _apply(conn, op, None)

        await self._submit(run)
        return []

    async def purge_expired(self, now: int | None = None) -> int:
        """The TTL sweeper (DynamoDB runs its own); returns how many expired items it deleted."""
        cutoff = now_epoch() if now is None else now

        def run(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM items WHERE ttl <= ?", (cutoff,)).rowcount

        return await self._submit(run)

    async def close(self) -> None:
        """Lets the writer finish every queued job, then closes the connections."""
        if not self._closed:
            self._closed = True
            self._jobs.put(None)
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        if self._writer is not None:
            self._writer.join()
        self._readers.shutdown()
        for conn in self._read_conns:
            conn.close()
