"""The embedded store against real SQLite files: group commit, durability, and where its pages split.

The semantics every backend shares are in test_store_contract.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engagements.store import (
    GSI1,
    GSI1PK,
    GSI1SK,
    PK,
    SK,
    TTL,
    ConditionFailed,
    Put,
    StoreError,
    TransactionCanceled,
    Update,
    absent,
    equals,
)
from engagements.store.base import MAX_PAGE_BYTES, now_epoch
from engagements.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = await SQLiteStore.open(tmp_path / "store.db")
    yield store
    await store.close()


def body_bytes(item: dict) -> int:
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())


async def test_adding_to_a_non_number_fails_and_changes_nothing(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "s", "name": "x", "n": 1})
    with pytest.raises(ValueError):
        await store.update("p", "s", set={"n": 2}, add={"name": 1})
    assert await store.get("p", "s") == {PK: "p", SK: "s", "name": "x", "n": 1}


TRICKY = st.sampled_from(
    ["a", "b", "%", "_", "#", "\\", "\x00", "é", "\ud7ff", "\ue000", "\uffff", "\U0010ffff"]
)
KEY_TEXT = st.text(alphabet=st.one_of(TRICKY, st.characters(codec="utf-8")), max_size=4)


@settings(max_examples=60, deadline=None)
@example(sks=["\ud7ff", "\ud7ffa", "\ue000"], prefix="\ud7ff")  # the successor skips surrogates
@example(sks=["a\U0010ffff", "a\U0010ffffz", "b"], prefix="a\U0010ffff")  # no code point follows it
@given(sks=st.lists(KEY_TEXT.filter(bool), max_size=25, unique=True), prefix=KEY_TEXT)
def test_prefix_query_matches_startswith_for_any_characters(
    tmp_path_factory: pytest.TempPathFactory, sks: list[str], prefix: str
) -> None:
    expected = sorted((sk for sk in sks if sk.startswith(prefix)), key=str.encode)  # DynamoDB: UTF-8 order

    async def check() -> None:
        store = await SQLiteStore.open(tmp_path_factory.mktemp("prefix") / "store.db")
        try:
            if sks:
                await store.batch_write([{PK: "p", SK: sk} for sk in sks])
            assert [i[SK] for i in (await store.query("p", prefix)).items] == expected
            assert [i[SK] for i in (await store.query("p", prefix, reverse=True)).items] == expected[::-1]
            one_by_one = []
            for reverse in (False, True):
                page = await store.query("p", prefix, limit=1, reverse=reverse)
                while page.items:
                    one_by_one += [i[SK] for i in page.items]
                    page = await store.query("p", prefix, limit=1, reverse=reverse, start_key=page.next_key)
            assert one_by_one == expected + expected[::-1]
        finally:
            await store.close()

    asyncio.run(check())


@pytest.mark.parametrize("reverse", [False, True])
async def test_limit_pages_yield_every_item_exactly_once(store: SQLiteStore, reverse: bool) -> None:
    await store.batch_write([{PK: "p", SK: f"item#{i:02}"} for i in range(10)])
    seen, start, pages = [], None, 0
    while True:
        page = await store.query("p", "item#", limit=3, start_key=start, reverse=reverse)
        pages += 1
        seen += [i[SK] for i in page.items]
        if page.next_key is None:
            break
        assert page.next_key == {PK: "p", SK: seen[-1]}
        start = page.next_key
    assert seen == sorted((f"item#{i:02}" for i in range(10)), reverse=reverse)
    assert pages == 4


async def test_a_page_that_fills_its_limit_exactly_still_offers_a_next_key(store: SQLiteStore) -> None:
    await store.batch_write([{PK: "p", SK: "a"}, {PK: "p", SK: "b"}])
    page = await store.query("p", limit=2)
    assert page.next_key == {PK: "p", SK: "b"}  # as DynamoDB does: the next page is empty
    assert await store.query("p", limit=2, start_key=page.next_key) == type(page)([], None)


async def test_pages_stop_after_the_item_that_crosses_one_megabyte(store: SQLiteStore) -> None:
    items = [{PK: "p", SK: f"blob#{i:02}", "data": "x" * 50_000} for i in range(30)]
    for item in items:
        await store.put(item)
    pages, start = [], None
    while True:
        page = await store.query("p", "blob#", start_key=start)
        pages.append(page.items)
        if page.next_key is None:
            break
        start = page.next_key
    assert len(pages) == 2
    first = [body_bytes(i) for i in pages[0]]
    assert sum(first[:-1]) < MAX_PAGE_BYTES <= sum(first)
    assert [i[SK] for page in pages for i in page] == [i[SK] for i in items]
    assert await store.query_all("p", "blob#") == items


async def test_gsi1_pages_through_duplicate_sort_keys_without_skipping_or_repeating(
    store: SQLiteStore,
) -> None:
    for i in range(12):
        await store.put(
            {PK: f"player#{i % 4}", SK: f"vote#{i}", GSI1PK: "round#1", GSI1SK: f"answer#{i % 3}"}
        )
    await store.put({PK: "player#9", SK: "vote", GSI1PK: "round#2", GSI1SK: "answer#0"})
    for reverse in (False, True):
        seen, start = [], None
        while True:
            page = await store.query(
                "round#1", "answer#", index=GSI1, limit=5, start_key=start, reverse=reverse
            )
            seen += [(i[GSI1SK], i[PK], i[SK]) for i in page.items]
            if page.next_key is None:
                break
            last = page.items[-1]
            assert page.next_key == {k: last[k] for k in (PK, SK, GSI1PK, GSI1SK)}
            start = page.next_key
        assert len(seen) == len(set(seen)) == 12
        assert seen == sorted(seen, reverse=reverse)
    assert [i[SK] for i in (await store.query("round#1", "answer#1", index=GSI1)).items] == [
        "vote#4",  # player#0
        "vote#1",  # player#1
        "vote#10",  # player#2
        "vote#7",  # player#3
    ]


async def test_a_repeated_transaction_token_succeeds_without_applying_twice(store: SQLiteStore) -> None:
    writes = [Update("game", "votes", add={"count": 1}), Put({PK: "game", SK: "vote#alice"}, absent())]
    await store.transact_write(writes, token="vote-alice")
    await store.transact_write(writes, token="vote-alice")
    assert await store.get("game", "votes") == {PK: "game", SK: "votes", "count": 1}
    with pytest.raises(StoreError, match="IdempotentParameterMismatch"):
        await store.transact_write([Update("game", "votes", add={"count": 2})], token="vote-alice")
    with pytest.raises(TransactionCanceled):
        await store.transact_write(writes, token="vote-alice-again")


async def test_concurrent_transactions_with_one_token_apply_once(store: SQLiteStore) -> None:
    writes = [Update("game", "votes", add={"count": 1})]
    await asyncio.gather(*(store.transact_write(writes, token="same") for _ in range(5)))
    assert await store.get("game", "votes") == {PK: "game", SK: "votes", "count": 1}


async def test_expired_items_are_hidden_yet_block_absent_until_purged(store: SQLiteStore) -> None:
    now = now_epoch()
    await store.put({PK: "room", SK: "code", TTL: now - 1})
    await store.put({PK: "room", SK: "live", TTL: now + 3600})
    assert await store.get("room", "code") is None
    assert [i[SK] for i in (await store.query("room")).items] == ["live"]
    with pytest.raises(ConditionFailed) as failed:
        await store.put({PK: "room", SK: "code"}, absent())
    assert failed.value.item == {PK: "room", SK: "code", TTL: now - 1}

    assert await store.purge_expired() == 1
    assert await store.purge_expired(now=now + 7200) == 1
    await store.put({PK: "room", SK: "code"}, absent())
    assert await store.get("room", "code") == {PK: "room", SK: "code"}


async def test_a_ttl_that_is_not_a_number_never_expires(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "s", TTL: "soon"})
    await store.put({PK: "p", SK: "t", TTL: True})
    assert await store.purge_expired(now=now_epoch() + 10**9) == 0
    assert len((await store.query("p")).items) == 2


async def test_500_concurrent_conditional_puts_share_a_few_commits(store: SQLiteStore) -> None:
    before = store.commits
    await asyncio.gather(*(store.put({PK: "crowd", SK: f"phone#{i:03}"}, absent()) for i in range(500)))
    assert store.commits - before < 50
    assert len(await store.query_all("crowd")) == 500


async def test_a_failed_condition_does_not_undo_the_writes_committed_with_it(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "taken"})
    results = await asyncio.gather(
        store.put({PK: "p", SK: "a"}),
        store.put({PK: "p", SK: "taken", "new": True}, absent()),
        store.update("p", "b", add={"n": 1}),
        return_exceptions=True,
    )
    assert isinstance(results[1], ConditionFailed)
    assert [i[SK] for i in await store.query_all("p")] == ["a", "b", "taken"]
    assert await store.get("p", "taken") == {PK: "p", SK: "taken"}


async def test_writes_submitted_without_awaiting_apply_in_submission_order(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "counter", "n": 0})
    bumps = [store.update("p", "counter", set={"n": i + 1}, condition=equals("n", i)) for i in range(200)]
    await asyncio.gather(*bumps)  # each bump only holds if every earlier one was applied first
    tasks = [asyncio.create_task(store.put({PK: "p", SK: "last", "writer": i})) for i in range(50)]
    await asyncio.gather(*tasks)
    assert (await store.get("p", "counter"))["n"] == 200
    assert (await store.get("p", "last"))["writer"] == 49


async def test_the_file_is_in_wal_mode(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "s"})
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


CHILD = """
import asyncio, sys
from engagements.store.sqlite import SQLiteStore

async def main():
    store = await SQLiteStore.open(sys.argv[1])
    for i in range(100_000):
        await store.put({"PK": "acked", "SK": f"{i:06}", "payload": "x" * 200})
        print(f"acked {i}", flush=True)

asyncio.run(main())
"""


def test_every_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    acked = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acked.append(int(line.split()[1]))
            if len(acked) == 150:
                os.kill(child.pid, signal.SIGKILL)
                break
        acked += [int(line.split()[1]) for line in child.stdout]  # acks already in the pipe
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert len(acked) >= 150

    async def stored() -> set[int]:
        store = await SQLiteStore.open(path)
        try:
            return {int(item[SK]) for item in await store.query_all("acked")}
        finally:
            await store.close()

    assert set(acked) <= asyncio.run(stored())


async def test_close_finishes_queued_writes_and_then_refuses_everything(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "store.db")
    queued = [asyncio.create_task(store.put({PK: "p", SK: f"{i}"})) for i in range(20)]
    await asyncio.sleep(0)  # the tasks submit their jobs
    await store.close()
    await store.close()
    assert await asyncio.gather(*queued) == [None] * 20
    for operation in [
        store.get("p", "0"),
        store.put({PK: "p", SK: "late"}),
        store.query("p"),
        store.update("p", "0", set={"x": 1}),
        store.delete("p", "0"),
        store.transact_write([Put({PK: "p", SK: "late"})]),
        store.batch_write([{PK: "p", SK: "late"}]),
        store.purge_expired(),
    ]:
        with pytest.raises(StoreError, match="store is closed"):
            await operation

    reopened = await SQLiteStore.open(tmp_path / "store.db")
    assert len(await reopened.query_all("p")) == 20
    await reopened.close()
