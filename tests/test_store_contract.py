"""One contract for every backend: the embedded SQLite file and DynamoDB (conftest's moto server, 127.0.0.1).

moto never throttles, never leaves batch writes unprocessed and always returns the old item of a failed
condition, so the DynamoDB-only tests put a fault-injecting proxy between the store and moto.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from engagements import items, lifecycle
from engagements.model import Entry, Game, Player
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
    Store,
    StoreError,
    TransactionCanceled,
    Update,
    absent,
    dynamodb,
    equals,
    present,
)
from engagements.store.base import MAX_PAGE_BYTES, Cond, at_least, below, now_epoch
from engagements.store.dynamodb import DynamoStore
from engagements.store.schema import create_table
from engagements.store.sqlite import SQLiteStore
from tests.faults import FaultProxy, conflict, leave_unprocessed, omit_old_item, slowly, throttle

REGION = "us-east-1"


def dummy_session(**overrides: Any) -> boto3.Session:
    """Credentials that only moto accepts: nothing here may ever reach real AWS."""
    return boto3.Session(
        **{"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}
        | overrides
    )


@pytest.fixture(scope="session")
def aws() -> boto3.Session:
    """One session for the whole run: it caches the service models every client would load again."""
    return dummy_session()


@pytest.fixture
def table(aws: boto3.Session, moto_endpoint: str) -> Iterator[str]:
    client = aws.client("dynamodb", endpoint_url=moto_endpoint)
    name = f"store-{uuid.uuid4().hex[:12]}"
    create_table(client, name)
    yield name
    client.delete_table(TableName=name)
    client.close()


@pytest.fixture(params=["sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        opened: Store = await SQLiteStore.open(tmp_path / "store.db")
    else:
        url, table = request.getfixturevalue("moto_endpoint"), request.getfixturevalue("table")
        opened = await DynamoStore.open(table, endpoint_url=url, session=request.getfixturevalue("aws"))
    yield opened
    await opened.close()


@pytest.fixture
async def both(
    tmp_path: Path, table: str, moto_endpoint: str, aws: boto3.Session
) -> AsyncIterator[list[Store]]:
    stores = [
        await SQLiteStore.open(tmp_path / "store.db"),
        await DynamoStore.open(table, endpoint_url=moto_endpoint, session=aws),
    ]
    yield stores
    for opened in stores:
        await opened.close()


def body_bytes(item: dict[str, Any]) -> int:
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())


EVERY_TYPE = {
    PK: "game#1",
    SK: "player#ü",
    "name": "Zoë 🎉 名前",
    "score": -12345678901234567890,
    "widest": 10**38 - 1,
    "zero": 0,
    "ready": True,
    "kicked": False,
    "team": None,
    "answers": [1, "two", [3], {"four": 4}, None, True, []],
    "meta": {"nested": {"deeper": ["x", {"y": False}]}, "empty": {}, "none": [], "ü 🎉": ""},
    "blank": "",
    TTL: 4_000_000_000,
}


async def test_every_value_type_round_trips_unchanged(store: Store) -> None:
    await store.put(EVERY_TYPE)
    assert await store.get("game#1", "player#ü") == EVERY_TYPE
    assert (await store.query("game#1")).items == [EVERY_TYPE]
    after = await store.update("game#1", "player#ü", add={"zero": 0})
    assert after == EVERY_TYPE
    assert type(after["score"]) is int and type(after["ready"]) is bool


async def test_get_of_a_missing_item_is_none(store: Store) -> None:
    assert await store.get("nope", "nope") is None


def a_game() -> Game:
    game = Game(
        id="g1",
        code="QZ7K",
        title="Quiz night",
        type="answer-vote",
        prompts=[{"text": "A bad name for a cat"}, {"text": "The worst pizza topping"}],
        settings={"answer_seconds": 60, "vote_seconds": 30},
        host_token_hash="9f2c",
        secret="s3cret",
        created_at=now_epoch() * 1000,  # the items expire 30 days later
    )
    game.players["p1"] = Player("p1", "Zoë", "h1", game.created_at + 1000)
    return game


async def test_items_read_back_identically_whichever_backend_wrote_them(both: list[Store]) -> None:
    """The game's own writes, then a copy each way: the cloud sync is a plain copy."""
    game = a_game()
    ttl = lifecycle.expiry(game.created_at, 30)
    pk = items.game_pk(game.id)
    for store in both:
        await store.transact_write(items.creation_writes(game, ttl))
        await store.put(items.player_item(pk, game.players["p1"], ttl), absent())
        entry = Entry(
            0,
            "answer",
            "p1",
            {"text": "Sir Meows-a-lot", "tags": ["cat", None]},
            game.created_at + 2000,
            "c1",
        )
        await store.put(items.entry_item(pk, entry, ttl), absent())
        await store.update(pk, "PLAYER#p1", add={"score": 300}, set={"kicked": False})
    game.status = "playing"
    update = items.meta_update(game)
    for store in both:
        await store.transact_write([update])
    sqlite, dynamo = both
    local = await sqlite.query_all(pk) + await sqlite.query_all(items.code_pk(game.code))
    cloud = await dynamo.query_all(pk) + await dynamo.query_all(items.code_pk(game.code))
    assert len(local) == 6
    assert cloud == local
    assert [json.dumps(i, sort_keys=True) for i in cloud] == [json.dumps(i, sort_keys=True) for i in local]

    for source, target in [(sqlite, dynamo), (dynamo, sqlite)]:
        copies = [{**item, PK: f"copy#{pk}"} for item in await source.query_all(pk)]
        assert await target.batch_write(copies) == []
        assert await target.query_all(f"copy#{pk}") == copies
    await dynamo.batch_write([EVERY_TYPE])
    await sqlite.put(await dynamo.get(EVERY_TYPE[PK], EVERY_TYPE[SK]))
    assert await sqlite.get(EVERY_TYPE[PK], EVERY_TYPE[SK]) == EVERY_TYPE


@pytest.mark.parametrize("value", [1.5, [1, 2.0], {"deep": {"er": float("nan")}}])
async def test_floats_are_rejected_anywhere_in_an_item(store: Store, value: object) -> None:
    with pytest.raises(ValueError):
        await store.put({PK: "p", SK: "s", "value": value})
    with pytest.raises(ValueError):
        await store.update("p", "s", set={"value": value})
    with pytest.raises(ValueError):
        await store.transact_write([Put({PK: "p", SK: "s", "value": value})])
    assert await store.get("p", "s") is None


@pytest.mark.parametrize("value", [(1, 2), {1, 2}, b"bytes", {1: "int key"}, 10**38, -(10**38)])
async def test_values_that_would_not_round_trip_are_rejected(store: Store, value: object) -> None:
    with pytest.raises(ValueError):
        await store.put({PK: "p", SK: "s", "value": value})
    with pytest.raises(ValueError):
        await store.batch_write([{PK: "p", SK: "s", "value": value}])


@pytest.mark.parametrize(
    "item",
    [
        {SK: "s"},
        {PK: "p", SK: ""},
        {PK: "p", SK: 1},
        {PK: "p", SK: "s", GSI1PK: 7, GSI1SK: "x"},
        {PK: "p", SK: "s", GSI1PK: "", GSI1SK: "x"},
        {PK: "p" * 2049, SK: "s"},
        {PK: "p", SK: "é" * 513},
        {PK: "p", SK: "s", GSI1PK: "g", GSI1SK: "x" * 1025},
    ],
)
async def test_keys_are_non_empty_strings_within_dynamodbs_sizes(store: Store, item: dict) -> None:
    with pytest.raises(ValueError):
        await store.put(item)


async def test_keys_at_dynamodbs_size_limits_are_accepted(store: Store) -> None:
    item = {PK: "p" * 2048, SK: "é" * 512, GSI1PK: "g" * 2048, GSI1SK: "x" * 1024}
    await store.put(item)
    assert (await store.query("g" * 2048, index=GSI1)).items == [item]


async def test_items_over_400_kb_are_refused(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.put({PK: "p", SK: "s", "blob": "x" * 400 * 1024})
    await store.put({PK: "p", SK: "s", "blob": "x" * 399_000})  # moto's limit is 400,000 bytes, AWS's 400 KiB


async def test_put_if_absent_on_an_existing_item_fails_and_reports_what_is_stored(store: Store) -> None:
    await store.put({PK: "room", SK: "code", "owner": "alice", "n": 7}, absent())
    with pytest.raises(ConditionFailed) as failed:
        await store.put({PK: "room", SK: "code", "owner": "bob"}, absent())
    assert failed.value.item == {PK: "room", SK: "code", "owner": "alice", "n": 7}
    assert (await store.get("room", "code"))["owner"] == "alice"


async def test_present_condition_fails_on_a_missing_item_with_no_item(store: Store) -> None:
    with pytest.raises(ConditionFailed) as failed:
        await store.put({PK: "p", SK: "s"}, present())
    assert failed.value.item is None


async def test_equals_lets_only_the_first_of_two_identical_version_bumps_win(store: Store) -> None:
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


async def test_below_holds_for_a_missing_attribute_and_a_smaller_number_only(store: Store) -> None:
    """A cap (a game's seats): the ADD that takes the count to the cap is the last one let through."""
    for _ in range(2):
        await store.update("game", "META", add={"active": 1}, condition=below("active", 2))
    with pytest.raises(ConditionFailed):
        await store.update("game", "META", add={"active": 1}, condition=below("active", 2))
    assert (await store.get("game", "META"))["active"] == 2


async def test_at_least_holds_for_a_number_that_high_only(store: Store) -> None:
    """A count that must not cross zero (a player's open sockets): never a missing item or attribute."""
    for missing in (None, {PK: "p", SK: "nothing"}):
        if missing is not None:
            await store.put(missing)
        with pytest.raises(ConditionFailed):
            await store.update("p", "nothing", add={"n": -1}, condition=at_least("n", 1))
    await store.put({PK: "p", SK: "s", "n": 1, "flag": True})
    assert (await store.update("p", "s", add={"n": -1}, condition=at_least("n", 1)))["n"] == 0
    for condition in (at_least("n", 1), at_least("flag", 1)):
        with pytest.raises(ConditionFailed):
            await store.update("p", "s", add={"n": -1}, condition=condition)
    assert (await store.get("p", "s"))["n"] == 0


async def test_equals_compares_whole_values_and_never_a_missing_attribute_or_another_type(
    store: Store,
) -> None:
    stored = {PK: "p", SK: "s", "flag": True, "nothing": None, "list": [1, {"a": "b"}], "map": {"x": [2]}}
    await store.put(stored)
    for condition in [
        equals("missing", None),
        equals("flag", 1),
        equals("flag", "true"),
        equals("list", [1]),
        equals("map", {"x": [3]}),
        equals("flag", True) + equals("nothing", False),
    ]:
        with pytest.raises(ConditionFailed):
            await store.put({PK: "p", SK: "s"}, condition)
    holds = equals("flag", True) + equals("nothing", None) + equals("list", [1, {"a": "b"}])
    await store.put({PK: "p", SK: "s", "flag": False}, holds + equals("map", {"x": [2]}) + present())
    assert await store.get("p", "s") == {PK: "p", SK: "s", "flag": False}


async def test_conditions_may_name_any_attribute_including_reserved_words(store: Store) -> None:
    await store.put({PK: "p", SK: "s", TTL: 4_000_000_000, "name": "x", "status": "live"})
    await store.update(
        "p", "s", set={"status": "done"}, condition=(Cond("present", TTL), *equals("status", "live"))
    )
    with pytest.raises(ConditionFailed):
        await store.delete("p", "s", (Cond("absent", "name"),))
    await store.delete("p", "s", (Cond("present", "name"), *equals(TTL, 4_000_000_000)))
    assert await store.get("p", "s") is None


async def test_update_sets_adds_and_removes_and_returns_the_new_item(store: Store) -> None:
    await store.put({PK: "p", SK: "s", "name": "old", "score": 10, "temp": "x", TTL: 4_000_000_000})
    item = await store.update(
        "p", "s", set={"name": "new", "data": {"a": [1]}}, add={"score": 5, "streak": 1}, remove=["temp", TTL]
    )
    assert item == {PK: "p", SK: "s", "name": "new", "data": {"a": [1]}, "score": 15, "streak": 1}
    assert await store.get("p", "s") == item


async def test_update_of_a_missing_item_creates_it_with_add_starting_at_zero(store: Store) -> None:
    assert await store.update("p", "s", add={"votes": -2}) == {PK: "p", SK: "s", "votes": -2}
    assert await store.get("p", "s") == {PK: "p", SK: "s", "votes": -2}


async def test_an_update_that_changes_nothing_creates_the_item_or_checks_its_condition(store: Store) -> None:
    assert await store.update("q", "s") == {PK: "q", SK: "s"}
    assert await store.get("q", "s") == {PK: "q", SK: "s"}
    await store.put({PK: "p", SK: "s", "n": 1})
    assert await store.update("p", "s", condition=equals("n", 1)) == {PK: "p", SK: "s", "n": 1}
    with pytest.raises(ConditionFailed) as failed:
        await store.update("p", "s", condition=equals("n", 2))
    assert failed.value.item == {PK: "p", SK: "s", "n": 1}
    with pytest.raises(ConditionFailed) as failed:
        await store.update("r", "s", condition=present())
    assert failed.value.item is None
    assert await store.get("r", "s") is None


@pytest.mark.parametrize(
    "changes",
    [
        {"set": {PK: "x"}},
        {"remove": [SK]},
        {"add": {PK: 1}},
        {"set": {"a": 1}, "remove": ["a"]},
        {"add": {"n": 1.5}},
        {"add": {"n": True}},
    ],
)
async def test_update_refuses_key_changes_overlaps_and_non_int_adds(store: Store, changes: dict) -> None:
    with pytest.raises(ValueError):
        await store.update("p", "s", **changes)


async def test_adding_to_a_non_number_fails_and_changes_nothing(store: Store) -> None:
    """Only ADD here: moto applies an update's other clauses anyway; AWS and SQLite do not."""
    await store.put({PK: "p", SK: "s", "name": "x", "n": 1})
    with pytest.raises(ValueError):
        await store.update("p", "s", add={"name": 1})
    assert await store.get("p", "s") == {PK: "p", SK: "s", "name": "x", "n": 1}


async def test_delete_honours_its_condition_and_ignores_missing_items(store: Store) -> None:
    await store.put({PK: "p", SK: "s", "owner": "alice"})
    with pytest.raises(ConditionFailed) as failed:
        await store.delete("p", "s", equals("owner", "bob"))
    assert failed.value.item == {PK: "p", SK: "s", "owner": "alice"}
    await store.delete("p", "s", equals("owner", "alice"))
    assert await store.get("p", "s") is None
    await store.delete("p", "s")
    with pytest.raises(ConditionFailed):
        await store.delete("p", "s", present())


async def test_query_returns_prefix_matches_in_sort_key_order_or_reversed(store: Store) -> None:
    await store.batch_write([{PK: "game", SK: sk} for sk in ["player#3", "answer#1", "player#1", "player#2"]])
    await store.batch_write(
        [{PK: "game", SK: "playerz"}, {PK: "game", SK: "q"}, {PK: "other", SK: "player#0"}]
    )
    page = await store.query("game", "player#")
    assert [i[SK] for i in page.items] == ["player#1", "player#2", "player#3"]
    assert page.next_key is None
    reverse = await store.query("game", "player#", reverse=True)
    assert [i[SK] for i in reverse.items] == ["player#3", "player#2", "player#1"]
    assert [i[SK] for i in (await store.query("game")).items] == [
        "answer#1",
        "player#1",
        "player#2",
        "player#3",
        "playerz",
        "q",
    ]
    assert (await store.query("nobody")).items == []


async def test_sort_keys_order_by_utf8_bytes_and_wildcards_match_literally(store: Store) -> None:
    sks = ["a%b", "axb", "a_b", "a#b", "a#c", "a\\b", "a[b", "a*b", "a?b", "A%b", "aé", "a\uffff", "a😀"]
    await store.batch_write([{PK: "p", SK: sk} for sk in sks])
    assert [i[SK] for i in (await store.query("p")).items] == sorted(sks, key=str.encode)
    for prefix in ["a%", "a_", "a#", "a\\", "a[", "a*", "a?", "A", "a\uffff"]:
        found = [i[SK] for i in (await store.query("p", prefix)).items]
        assert found == sorted((sk for sk in sks if sk.startswith(prefix)), key=str.encode), prefix


@pytest.mark.parametrize("reverse", [False, True])
async def test_limit_pages_yield_every_item_exactly_once(store: Store, reverse: bool) -> None:
    await store.batch_write([{PK: "p", SK: f"item#{i:02}"} for i in range(10)] + [{PK: "p", SK: "other"}])
    seen: list[str] = []
    start = None
    while True:
        page = await store.query("p", "item#", limit=3, start_key=start, reverse=reverse)
        assert len(page.items) <= 3
        seen += [i[SK] for i in page.items]
        if page.next_key is None:
            break
        assert page.next_key == {PK: "p", SK: seen[-1]}
        start = page.next_key
    assert seen == sorted((f"item#{i:02}" for i in range(10)), reverse=reverse)


async def test_pages_stop_at_about_one_megabyte_and_next_key_resumes_them(store: Store) -> None:
    blobs = [{PK: "p", SK: f"blob#{i:02}", "data": chr(65 + i % 26) * 45_000} for i in range(30)]
    await store.batch_write(blobs[:25])
    await store.batch_write(blobs[25:])
    pages, start = [], None
    while True:
        page = await store.query("p", "blob#", start_key=start)
        pages.append(page.items)
        if page.next_key is None:
            break
        start = page.next_key
    assert len(pages) >= 2
    for page_items in pages:
        assert sum(body_bytes(i) for i in page_items[:-1]) < MAX_PAGE_BYTES
    assert [i for page_items in pages for i in page_items] == blobs
    assert await store.query_all("p", "blob#") == blobs


async def test_gsi1_finds_items_by_its_keys_in_order_and_pages_through_equal_sort_keys(store: Store) -> None:
    await store.batch_write(
        [
            {PK: f"player#{i % 4}", SK: f"vote#{i:02}", GSI1PK: "round#1", GSI1SK: f"answer#{i % 3}", "n": i}
            for i in range(12)
        ]
        + [{PK: "player#9", SK: "vote", GSI1PK: "round#2", GSI1SK: "answer#0"}]
    )
    everything = (await store.query("round#1", index=GSI1)).items
    assert len(everything) == 12 and everything[0]["n"] in (0, 3, 6, 9)  # whole items: projection ALL
    ones = (await store.query("round#1", "answer#1", index=GSI1)).items
    assert sorted(i[SK] for i in ones) == ["vote#01", "vote#04", "vote#07", "vote#10"]
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
        assert [s[0] for s in seen] == sorted((s[0] for s in seen), reverse=reverse)


async def test_items_without_both_gsi1_keys_are_not_in_the_index(store: Store) -> None:
    await store.put({PK: "a", SK: "1", GSI1PK: "g", GSI1SK: "x"})
    await store.put({PK: "b", SK: "1", GSI1PK: "g"})
    await store.put({PK: "c", SK: "1", GSI1SK: "x"})
    await store.put({PK: "d", SK: "1"})
    assert [i[PK] for i in (await store.query("g", index=GSI1)).items] == ["a"]
    await store.update("a", "1", remove=[GSI1SK])
    assert (await store.query("g", index=GSI1)).items == []
    await store.update("d", "1", set={GSI1PK: "g", GSI1SK: "y"})
    assert [i[PK] for i in (await store.query("g", index=GSI1)).items] == ["d"]
    assert (await store.query("a", index=GSI1)).items == []


async def test_unknown_index_and_non_positive_limit_are_rejected(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.query("p", index="GSI2")
    with pytest.raises(ValueError):
        await store.query("p", limit=0)


async def test_transaction_writes_nothing_when_one_condition_fails(store: Store) -> None:
    await store.put({PK: "game", SK: "state", "version": 1})
    await store.put({PK: "game", SK: "old"})
    writes = [
        Put({PK: "game", SK: "player#1"}, absent()),
        Update("game", "state", set={"phase": "play"}, add={"version": 1}, condition=equals("version", 2)),
        Delete("game", "old", present()),
        Delete("game", "gone", present()),
    ]
    with pytest.raises(TransactionCanceled) as canceled:
        await store.transact_write(writes)
    assert canceled.value.reasons == [None, "ConditionalCheckFailed", None, "ConditionalCheckFailed"]
    assert await store.get("game", "player#1") is None
    assert await store.get("game", "old") is not None
    assert await store.get("game", "state") == {PK: "game", SK: "state", "version": 1}

    writes[1] = Update(
        "game", "state", set={"phase": "play"}, add={"version": 1}, condition=equals("version", 1)
    )
    writes[3] = Delete("game", "gone")
    await store.transact_write(writes, token=f"token-{uuid.uuid4()}")
    assert await store.get("game", "player#1") == {PK: "game", SK: "player#1"}
    assert await store.get("game", "old") is None
    assert await store.get("game", "state") == {PK: "game", SK: "state", "version": 2, "phase": "play"}


async def test_a_transaction_failing_midway_leaves_nothing_behind(store: Store) -> None:
    await store.put({PK: "p", SK: "name", "text": "x"})
    with pytest.raises(ValueError):
        await store.transact_write([Put({PK: "p", SK: "new"}), Update("p", "name", add={"text": 1})])
    assert [i[SK] for i in await store.query_all("p")] == ["name"]


@pytest.mark.parametrize(
    "writes",
    [
        [Put({PK: "p", SK: f"{i}"}) for i in range(101)],
        [Put({PK: "p", SK: "s"}), Delete("p", "s")],
        [Update("p", "s", add={"n": 1}), Update("p", "s", set={"m": 1})],
        [],
        [Update("p", "s")],
    ],
    ids=["101", "twice", "two-updates", "empty", "update-of-nothing"],
)
async def test_transactions_refuse_what_dynamodb_refuses(store: Store, writes: list) -> None:
    with pytest.raises(ValueError):
        await store.transact_write(writes)
    assert await store.query_all("p") == []


async def test_a_transaction_of_100_writes_is_accepted(store: Store) -> None:
    await store.transact_write([Put({PK: "p", SK: f"{i:03}"}, absent()) for i in range(100)])
    assert len(await store.query_all("p")) == 100


async def test_batch_write_puts_and_deletes_up_to_25_items(store: Store) -> None:
    assert await store.batch_write([{PK: "p", SK: f"{i:02}"} for i in range(25)]) == []
    unprocessed = await store.batch_write(
        [{PK: "p", SK: "new"}], [{PK: "p", SK: f"{i:02}"} for i in range(24)]
    )
    assert unprocessed == []
    assert [i[SK] for i in await store.query_all("p")] == ["24", "new"]
    for puts, deletes in [
        ([{PK: "p", SK: f"{i}"} for i in range(26)], []),
        ([{PK: "p", SK: f"{i}"} for i in range(20)], [{PK: "q", SK: f"{i}"} for i in range(6)]),
        ([{PK: "p", SK: "new"}], [{PK: "p", SK: "new"}]),
        ([], []),
    ]:
        with pytest.raises(ValueError):
            await store.batch_write(puts, deletes)
    assert [i[SK] for i in await store.query_all("p")] == ["24", "new"]


async def test_expired_items_are_hidden_from_reads_yet_still_block_absent(store: Store) -> None:
    now = now_epoch()
    await store.batch_write(
        [
            {PK: "room", SK: "code", TTL: now - 1},
            {PK: "room", SK: "live", TTL: now + 3600, GSI1PK: "rooms", GSI1SK: "live"},
            {PK: "room", SK: "old", TTL: now - 3600, GSI1PK: "rooms", GSI1SK: "old"},
        ]
    )
    assert await store.get("room", "code") is None
    assert await store.get("room", "old") is None
    assert [i[SK] for i in (await store.query("room")).items] == ["live"]
    assert [i[SK] for i in (await store.query("rooms", index=GSI1)).items] == ["live"]
    with pytest.raises(ConditionFailed) as failed:
        await store.put({PK: "room", SK: "code"}, absent())
    assert failed.value.item == {PK: "room", SK: "code", TTL: now - 1}
    await store.put({PK: "room", SK: "code", "fresh": True})  # an unconditional put replaces it
    assert await store.get("room", "code") == {PK: "room", SK: "code", "fresh": True}


async def test_a_ttl_that_is_not_a_number_never_expires(store: Store) -> None:
    await store.batch_write(
        [{PK: "p", SK: "s", TTL: "0"}, {PK: "p", SK: "t", TTL: True}, {PK: "p", SK: "u", TTL: None}]
    )
    assert len((await store.query("p")).items) == 3
    assert await store.get("p", "t") == {PK: "p", SK: "t", TTL: True}


async def test_expired_items_count_toward_a_page_then_are_filtered_out(store: Store) -> None:
    await store.batch_write(
        [{PK: "p", SK: "a"}, {PK: "p", SK: "b", TTL: now_epoch() - 1}, {PK: "p", SK: "c"}]
    )
    page = await store.query("p", limit=2)
    assert [i[SK] for i in page.items] == ["a"]
    assert page.next_key == {PK: "p", SK: "b"}
    assert [i[SK] for i in (await store.query("p", start_key=page.next_key)).items] == ["c"]


async def test_a_caller_mutating_its_dicts_after_the_call_changes_nothing_stored(store: Store) -> None:
    item: dict[str, Any] = {PK: "p", SK: "s", "tags": ["a"]}
    changes: dict[str, Any] = {"more": {"x": 1}}
    put = asyncio.ensure_future(store.put(item))
    await asyncio.sleep(0)
    item["tags"].append("b")
    await put
    updated = asyncio.ensure_future(store.update("p", "s", set=changes))
    await asyncio.sleep(0)
    changes["more"]["x"] = 2
    await updated
    assert await store.get("p", "s") == {PK: "p", SK: "s", "tags": ["a"], "more": {"x": 1}}


async def test_close_is_idempotent_and_then_everything_is_refused(store: Store) -> None:
    await store.put({PK: "p", SK: "0"})
    await store.close()
    await store.close()
    for operation in [
        store.get("p", "0"),
        store.put({PK: "p", SK: "late"}),
        store.query("p"),
        store.update("p", "0", set={"x": 1}),
        store.delete("p", "0"),
        store.transact_write([Put({PK: "p", SK: "late"})]),
        store.batch_write([{PK: "p", SK: "late"}]),
    ]:
        with pytest.raises(StoreError, match="store is closed"):
            await operation


# DynamoDB only: opening, and the faults moto never produces.


async def test_open_names_a_missing_table(moto_endpoint: str, aws: boto3.Session) -> None:
    with pytest.raises(StoreError, match=r"^no such table nope$"):
        await DynamoStore.open("nope", endpoint_url=moto_endpoint, session=aws)


async def test_open_refuses_a_table_with_another_schema(moto_endpoint: str, aws: boto3.Session) -> None:
    client = aws.client("dynamodb", endpoint_url=moto_endpoint)
    client.create_table(
        TableName="legacy",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        with pytest.raises(StoreError) as refused:
            await DynamoStore.open("legacy", endpoint_url=moto_endpoint, session=aws)
    finally:
        client.delete_table(TableName="legacy")
        client.close()
    message = str(refused.value)
    assert message.startswith("table legacy has the wrong schema: table key is id (HASH)")
    assert "no global secondary index GSI1" in message and "\n" not in message


async def test_open_says_when_dynamodb_cannot_be_reached(
    aws: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "MAX_ATTEMPTS", 2)
    with socket.socket() as closed:  # bound but not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        with pytest.raises(StoreError, match=f"^cannot reach DynamoDB at {url}$"):
            await DynamoStore.open("t", endpoint_url=url, session=aws)


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment with no credentials and no region anywhere, and no instance metadata to ask."""
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_aws_config")
async def test_open_says_when_there_are_no_credentials_or_no_region(moto_endpoint: str) -> None:
    with pytest.raises(StoreError, match=r"^no AWS credentials found$"):
        await DynamoStore.open("t", endpoint_url=moto_endpoint, region=REGION)
    with pytest.raises(StoreError, match=r"^no AWS region configured"):
        await DynamoStore.open("t", endpoint_url=moto_endpoint, session=dummy_session(region_name=None))


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto_endpoint)
    yield proxy
    proxy.stop()


@pytest.fixture
async def proxied(proxy: FaultProxy, table: str, aws: boto3.Session) -> AsyncIterator[DynamoStore]:
    store = await DynamoStore.open(table, endpoint_url=proxy.url, session=aws)
    yield store
    await store.close()


async def test_batch_write_returns_unprocessed_writes_for_the_caller_to_send_again(
    proxy: FaultProxy, proxied: DynamoStore
) -> None:
    await proxied.put({PK: "p", SK: "doomed"})
    puts = [{PK: "p", SK: f"{i}", "n": i, "tags": ["x"]} for i in range(5)]
    proxy.inject("BatchWriteItem", leave_unprocessed(2))
    unprocessed = await proxied.batch_write(puts, [{PK: "p", SK: "doomed"}])
    assert unprocessed == [Put(puts[4]), Delete("p", "doomed")]
    assert [i[SK] for i in await proxied.query_all("p")] == ["0", "1", "2", "3", "doomed"]

    retry_puts = [w.item for w in unprocessed if isinstance(w, Put)]
    retry_deletes = [{PK: w.pk, SK: w.sk} for w in unprocessed if isinstance(w, Delete)]
    assert await proxied.batch_write(retry_puts, retry_deletes) == []
    assert await proxied.query_all("p") == puts


async def test_throttling_is_retried_with_backoff_until_it_passes(
    proxy: FaultProxy, proxied: DynamoStore
) -> None:
    proxy.inject("PutItem", throttle, times=2)
    proxy.inject("Query", throttle)
    await proxied.put({PK: "p", SK: "s"}, absent())
    assert [i[SK] for i in (await proxied.query("p")).items] == ["s"]
    assert proxy.actions.count("PutItem") == 3
    assert proxy.actions.count("Query") == 2


async def test_throttling_that_does_not_stop_is_reported(
    proxy: FaultProxy, proxied: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "MAX_ATTEMPTS", 3)
    proxy.inject("GetItem", throttle, times=3)
    with pytest.raises(StoreError, match="ThrottlingException"):
        await proxied.get("p", "s")
    assert proxy.pending("GetItem") == 0
    assert await proxied.get("p", "s") is None


async def test_a_transaction_canceled_by_a_conflict_is_sent_again(
    proxy: FaultProxy, proxied: DynamoStore
) -> None:
    proxy.inject("TransactWriteItems", conflict)
    sent = proxy.actions.count("TransactWriteItems")  # the store's check at open, that it has them
    await proxied.transact_write(
        [Update("p", "n", add={"n": 1}), Put({PK: "p", SK: "s"}, absent())], token="t1"
    )
    assert await proxied.get("p", "n") == {PK: "p", SK: "n", "n": 1}
    assert proxy.actions.count("TransactWriteItems") == sent + 2


async def test_a_failed_condition_reads_the_item_back_where_the_endpoint_omits_it(
    proxy: FaultProxy, proxied: DynamoStore
) -> None:
    await proxied.put({PK: "p", SK: "s", "owner": "alice"})
    proxy.inject("PutItem", omit_old_item)
    with pytest.raises(ConditionFailed) as failed:
        await proxied.put({PK: "p", SK: "s", "owner": "bob"}, absent())
    assert failed.value.item == {PK: "p", SK: "s", "owner": "alice"}
    proxy.inject("DeleteItem", omit_old_item)
    with pytest.raises(ConditionFailed) as failed:
        await proxied.delete("p", "missing", present())
    assert failed.value.item is None


async def test_a_slow_call_never_blocks_the_event_loop(proxy: FaultProxy, proxied: DynamoStore) -> None:
    proxy.inject("GetItem", slowly)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await proxied.get("p", "s")
    ticker.cancel()
    assert ticks >= 20
