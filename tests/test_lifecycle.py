"""A finished game's lifecycle on a real SQLite store: kept, begun, synced, and the copy the cloud gets."""

from __future__ import annotations

import pytest

from engagements import items, lifecycle
from engagements.model import FINISHED, Game, Player
from engagements.plugins import load_types
from engagements.store.base import TTL, now_epoch
from engagements.store.sqlite import SQLiteStore

DAY = 86400


@pytest.fixture
async def store(tmp_path):
    store = await SQLiteStore.open(tmp_path / "engagements.db")
    yield store
    await store.close()


async def finished(store: SQLiteStore, kept: bool = True) -> Game:
    """A game played to its end on the appliance; `kept`: its items have lost their expiry since."""
    now = now_epoch() * 1000
    game = Game("g1", "QZ7KMNP", "Quiz night", "answer-vote", [{"text": "A cat"}], {}, "h0", "s3cret", now)
    game.version = 1
    game.players["p1"] = Player("p1", "Zoë", "h1", now + 1000)
    ttl = lifecycle.expiry(game.created_at, 7)
    pk = items.game_pk(game.id)
    await store.transact_write(items.creation_writes(game, ttl))
    await store.put(items.player_item(pk, game.players["p1"], ttl))
    game.status = game.phase = FINISHED
    game.finished_at = now + 5000
    await store.transact_write([items.meta_update(game)])
    if kept:
        await lifecycle.keep(store, lifecycle.game_keep_writes(game, ttl))
    return game


async def test_the_appliance_keeps_a_finished_game_and_the_sync_finds_it_whole(store):
    await finished(store)
    (partition,) = await lifecycle.pending(store)
    assert {i["SK"] for i in partition} == {"META", "PROMPT#000", "PLAYER#p1"}
    assert not any(TTL in i for i in partition), "a finished game nobody synced never expires"
    assert TTL not in await store.get(items.code_pk("QZ7KMNP"), "CODE")


async def test_a_game_whose_keeping_was_cut_short_is_kept_by_whoever_finds_it(store):
    await finished(store, kept=False)
    (partition,) = await lifecycle.pending(store)
    assert not any(TTL in i for i in partition)
    assert TTL not in await store.get(items.code_pk("QZ7KMNP"), "CODE")


async def test_the_copy_uploaded_is_the_copy_expected_once_synced_and_keeps_nothing_home(store):
    await finished(store)
    (partition,) = await lifecycle.pending(store)
    began = now_epoch() * 1000
    partition = await lifecycle.begin_sync(store, partition, began, 30)
    types = load_types()
    uploaded = lifecycle.cloud_copy(partition, 30, types)

    assert await lifecycle.begin_sync(store, partition, began + 60_000, 30) == partition, "fixed at first"
    synced_at = await lifecycle.mark_synced(store, partition, began + 60_000, 7)
    assert synced_at == began
    after = await store.query_all(items.game_pk("g1"))
    assert lifecycle.cloud_copy(after, 30, types) == uploaded, "verify later expects exactly what went up"
    assert lifecycle.cloud_copy(after, 5, types) == uploaded, "a later change of the setting: no old copy's"

    meta = next(i for i in uploaded if i["SK"] == "META")
    assert meta["GSI1PK"] == "GAMES#synced" and meta["synced_at"] == began
    assert {i[TTL] for i in uploaded} == {began // 1000 + 30 * DAY}
    assert not [a for i in uploaded for a in lifecycle.HOME_ONLY if a in i]
    local = {i["SK"]: i for i in after}
    assert local["META"]["secret"] == "s3cret", "the secret stays home, and stays there"
    assert {i[TTL] for i in after} == {(began + 60_000) // 1000 + 7 * DAY}, "kept here from the sync on"
    assert await lifecycle.pending(store) == []
    assert [m["id"] for m in await lifecycle.synced(store)] == ["g1"]


async def test_a_sync_begun_so_long_ago_that_its_copy_expired_begins_again(store):
    await finished(store)
    (partition,) = await lifecycle.pending(store)
    long_ago = (now_epoch() - 40 * DAY) * 1000
    old = await lifecycle.begin_sync(store, partition, long_ago, 30)
    now = now_epoch() * 1000
    fresh = await lifecycle.begin_sync(store, old, now, 30)
    assert lifecycle.cloud_copy(fresh, 30, load_types())[0][TTL] == now // 1000 + 30 * DAY


def test_a_cloud_copy_loads_as_a_game_nobody_can_sign_in_to():
    meta = {
        "PK": "GAME#g1", "SK": "META", "id": "g1", "code": "QZ7KMNP", "title": "T", "type": "answer-vote",
        "settings": {}, "created_at": 1, "status": FINISHED, "phase": FINISHED, "round": 0, "deadline": None,
        "locked": False, "finished_at": 2, "synced_at": 3, "outcomes": {}, "seq": 4, "version": 5,
    }  # fmt: skip
    player = {"PK": "GAME#g1", "SK": "PLAYER#p1", "player_id": "p1", "nickname": "Zoë", "joined_at": 1}
    game = items.load_game([meta, {**player, "score": 0, "kicked": False}], load_types())
    assert game.secret == "" and game.host_token_hash == "" and game.players["p1"].token_hash == ""
