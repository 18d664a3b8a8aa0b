"""The embedded store against real SQLite files: DynamoDB's semantics, group commit, durability."""

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
    Delete,
    Put,
    StoreError,
    TransactionCanceled,
    Update,
    absent,
    equals,
    present,
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


async def test_every_value_type_round_trips_unchanged(store: SQLiteStore) -> None:
    item = {
        PK: "game#1",
        SK: "player#ü",
        "name": "Zoë 🎉 名前",
        "score": -12345678901234567890,
        "ready": True,
        "kicked": False,
        "team": None,
        "answers": [1, "two", [3], {"four": 4}, None, True],
        "meta": {"nested": {"deeper": ["x", {"y": False}]}, "empty": {}, "none": []},
        "blank": "",
    }
    await store.put(item)
    assert await store.get("game#1", "player#ü") == item


async def test_get_of_a_missing_item_is_none(store: SQLiteStore) -> None:
    assert await store.get("nope", "nope") is None


@pytest.mark.parametrize("value", [1.5, [1, 2.0], {"deep": {"er": float("nan")}}])
async def test_floats_are_rejected_anywhere_in_an_item(store: SQLiteStore, value: object) -> None:
    with pytest.raises(ValueError):
        await store.put({PK: "p", SK: "s", "value": value})
    with pytest.raises(ValueError):
        await store.update("p", "s", set={"value": value})
    assert await store.get("p", "s") is None


async def test_values_that_would_not_round_trip_are_rejected(store: SQLiteStore) -> None:
    for value in [(1, 2), {1, 2}, b"bytes", {1: "int key"}]:
        with pytest.raises(ValueError):
            await store.put({PK: "p", SK: "s", "value": value})


@pytest.mark.parametrize(
    "item", [{SK: "s"}, {PK: "p", SK: ""}, {PK: "p", SK: 1}, {PK: "p", SK: "s", GSI1PK: 7, GSI1SK: "x"}]
)
async def test_items_need_non_empty_string_keys(store: SQLiteStore, item: dict) -> None:
    with pytest.raises(ValueError):
        await store.put(item)


async def test_items_over_400_kb_are_refused(store: SQLiteStore) -> None:
    with pytest.raises(StoreError):
        await store.put({PK: "p", SK: "s", "blob": "x" * 400 * 1024})
    await store.put({PK: "p", SK: "s", "blob": "x" * 399 * 1024})


async def test_put_if_absent_on_an_existing_item_fails_and_reports_what_is_stored(store: SQLiteStore) -> None:
    await store.put({PK: "room", SK: "code", "owner": "alice"}, absent())
    with pytest.raises(ConditionFailed) as failed:
        await store.put({PK: "room", SK: "code", "owner": "bob"}, absent())
    assert failed.value.item == {PK: "room", SK: "code", "owner": "alice"}
    assert (await store.get("room", "code"))["owner"] == "alice"


async def test_present_condition_fails_on_a_missing_item_with_no_item(store: SQLiteStore) -> None:
    with pytest.raises(ConditionFailed) as failed:
        await store.put({PK: "p", SK: "s"}, present())
    assert failed.value.item is None


async def test_equals_lets_only_the_first_of_two_identical_version_bumps_win(store: SQLiteStore) -> None:
    await store.put({PK: "game", SK: "state", "version": 3, "phase": "lobby"})
    after = await store.update(
        "game", "state", set={"version": 4, "phase": "question"}, condition=equals("version", 3)
    )
    assert after == {PK: "game", SK: "state", "version": 4, "phase": "question"}
    with pytest.raises(ConditionFailed) as failed:
        await store.update(
            "game", "state", set={"version": 4, "phase": "results"}, condition=equals("version", 3)
        )
    assert failed.value.item == after
    assert await store.get("game", "state") == after


async def test_equals_never_matches_a_missing_attribute_or_a_value_of_another_type(
    store: SQLiteStore,
) -> None:
    await store.put({PK: "p", SK: "s", "flag": True, "nothing": None})
    for condition in [equals("missing", None), equals("flag", 1), equals("flag", "true")]:
        with pytest.raises(ConditionFailed):
            await store.put({PK: "p", SK: "s"}, condition)
    await store.put({PK: "p", SK: "s", "flag": False}, equals("flag", True) + equals("nothing", None))
    assert await store.get("p", "s") == {PK: "p", SK: "s", "flag": False}


async def test_update_sets_adds_and_removes_and_returns_the_new_item(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "s", "name": "old", "score": 10, "temp": "x"})
    item = await store.update(
        "p", "s", set={"name": "new"}, add={"score": 5, "streak": 1}, remove=["temp", "absent"]
    )
    assert item == {PK: "p", SK: "s", "name": "new", "score": 15, "streak": 1}
    assert await store.get("p", "s") == item


async def test_update_of_a_missing_item_creates_it_with_add_starting_at_zero(store: SQLiteStore) -> None:
    assert await store.update("p", "s", add={"votes": -2}) == {PK: "p", SK: "s", "votes": -2}
    assert await store.update("q", "s") == {PK: "q", SK: "s"}
    assert await store.get("p", "s") == {PK: "p", SK: "s", "votes": -2}


@pytest.mark.parametrize(
    "changes",
    [
        {"set": {PK: "x"}},
        {"remove": [SK]},
        {"add": {PK: 1}},
        {"set": {"a": 1}, "remove": ["a"]},
        {"add": {"n": 1.5}},
    ],
)
async def test_update_refuses_key_changes_overlaps_and_non_int_adds(
    store: SQLiteStore, changes: dict
) -> None:
    with pytest.raises(ValueError):
        await store.update("p", "s", **changes)


async def test_adding_to_a_non_number_fails_and_changes_nothing(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "s", "name": "x", "n": 1})
    with pytest.raises(ValueError):
        await store.update("p", "s", set={"n": 2}, add={"name": 1})
    assert await store.get("p", "s") == {PK: "p", SK: "s", "name": "x", "n": 1}


async def test_delete_honours_its_condition_and_ignores_missing_items(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "s", "owner": "alice"})
    with pytest.raises(ConditionFailed):
        await store.delete("p", "s", equals("owner", "bob"))
    await store.delete("p", "s", equals("owner", "alice"))
    assert await store.get("p", "s") is None
    await store.delete("p", "s")
    with pytest.raises(ConditionFailed):
        await store.delete("p", "s", present())


async def test_query_returns_prefix_matches_in_sort_key_order_or_reversed(store: SQLiteStore) -> None:
    for sk in ["player#3", "answer#1", "player#1", "player#2", "playerz", "q"]:
        await store.put({PK: "game", SK: sk})
    await store.put({PK: "other", SK: "player#0"})
    page = await store.query("game", "player#")
    assert [i[SK] for i in page.items] == ["player#1", "player#2", "player#3"]
    assert page.next_key is None
    reverse = await store.query("game", "player#", reverse=True)
    assert [i[SK] for i in reverse.items] == ["player#3", "player#2", "player#1"]
    assert len((await store.query("game")).items) == 6


async def test_prefix_characters_that_are_wildcards_elsewhere_match_literally(store: SQLiteStore) -> None:
    sks = ["a%b", "axb", "a_b", "a#b", "a#c", "a\\b", "a[b", "a*b", "a?b", "A%b"]
    for sk in sks:
        await store.put({PK: "p", SK: sk})
    for prefix in ["a%", "a_", "a#", "a\\", "a[", "a*", "a?", "A"]:
        found = [i[SK] for i in (await store.query("p", prefix)).items]
        assert found == sorted(sk for sk in sks if sk.startswith(prefix)), prefix


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


async def test_items_without_both_gsi1_keys_are_not_in_the_index(store: SQLiteStore) -> None:
    await store.put({PK: "a", SK: "1", GSI1PK: "g", GSI1SK: "x"})
    await store.put({PK: "b", SK: "1", GSI1PK: "g"})
    await store.put({PK: "c", SK: "1", GSI1SK: "x"})
    await store.put({PK: "d", SK: "1"})
    assert [i[PK] for i in (await store.query("g", index=GSI1)).items] == ["a"]
    await store.update("a", "1", remove=[GSI1SK])
    assert (await store.query("g", index=GSI1)).items == []
    await store.update("d", "1", set={GSI1PK: "g", GSI1SK: "y"})
    assert [i[PK] for i in (await store.query("g", index=GSI1)).items] == ["d"]


async def test_unknown_index_and_non_positive_limit_are_rejected(store: SQLiteStore) -> None:
    with pytest.raises(ValueError):
        await store.query("p", index="GSI2")
    with pytest.raises(ValueError):
        await store.query("p", limit=0)


async def test_transaction_writes_nothing_when_one_condition_fails(store: SQLiteStore) -> None:
    await store.put({PK: "game", SK: "state", "version": 1})
    await store.put({PK: "game", SK: "old"})
    writes = [
        Put({PK: "game", SK: "player#1"}, absent()),
        Update("game", "state", set={"phase": "play"}, add={"version": 1}, condition=equals("version", 2)),
        Delete("game", "old"),
    ]
    with pytest.raises(TransactionCanceled) as canceled:
        await store.transact_write(writes)
    assert canceled.value.reasons == [None, "ConditionalCheckFailed", None]
    assert await store.get("game", "player#1") is None
    assert await store.get("game", "old") is not None
    assert await store.get("game", "state") == {PK: "game", SK: "state", "version": 1}

    writes[1] = Update(
        "game", "state", set={"phase": "play"}, add={"version": 1}, condition=equals("version", 1)
    )
    await store.transact_write(writes)
    assert await store.get("game", "player#1") == {PK: "game", SK: "player#1"}
    assert await store.get("game", "old") is None
    assert await store.get("game", "state") == {PK: "game", SK: "state", "version": 2, "phase": "play"}


async def test_a_transaction_failing_midway_leaves_nothing_behind(store: SQLiteStore) -> None:
    await store.put({PK: "p", SK: "name", "text": "x"})
    with pytest.raises(ValueError):
        await store.transact_write([Put({PK: "p", SK: "new"}), Update("p", "name", add={"text": 1})])
    assert [i[SK] for i in await store.query_all("p")] == ["name"]


async def test_transactions_over_100_writes_or_naming_an_item_twice_are_rejected(store: SQLiteStore) -> None:
    with pytest.raises(ValueError):
        await store.transact_write([Put({PK: "p", SK: f"{i}"}) for i in range(101)])
    with pytest.raises(ValueError):
        await store.transact_write([Put({PK: "p", SK: "s"}), Delete("p", "s")])
    with pytest.raises(ValueError):
        await store.transact_write([])
    await store.transact_write([Put({PK: "p", SK: f"{i}"}) for i in range(100)])
    assert len(await store.query_all("p")) == 100


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


async def test_batch_write_puts_and_deletes_up_to_25_items(store: SQLiteStore) -> None:
    await store.batch_write([{PK: "p", SK: f"{i:02}"} for i in range(25)])
    unprocessed = await store.batch_write(
        [{PK: "p", SK: "new"}], [{PK: "p", SK: f"{i:02}"} for i in range(24)]
    )
    assert unprocessed == []
    assert [i[SK] for i in await store.query_all("p")] == ["24", "new"]
    with pytest.raises(ValueError):
        await store.batch_write([{PK: "p", SK: f"{i}"} for i in range(26)])
    with pytest.raises(ValueError):
        await store.batch_write([{PK: "p", SK: "new"}], [{PK: "p", SK: "new"}])


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


async def test_expired_items_count_toward_a_page_then_are_filtered_out(store: SQLiteStore) -> None:
    await store.batch_write(
        [{PK: "p", SK: "a"}, {PK: "p", SK: "b", TTL: now_epoch() - 1}, {PK: "p", SK: "c"}]
    )
    page = await store.query("p", limit=2)
    assert [i[SK] for i in page.items] == ["a"]
    assert page.next_key == {PK: "p", SK: "b"}
    assert [i[SK] for i in (await store.query("p", start_key=page.next_key)).items] == ["c"]


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
