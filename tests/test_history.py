"""History: finished games by time for the admin, and a game's rounds, results and podium for its host, with
the same routes and bodies on the appliance and in the cloud; a game synced from an appliance opens in the
cloud with the host token that ran it, and for reading only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engagements import history, items, lifecycle
from engagements.service import now_ms
from engagements.store.base import GSI1PK, GSI1SK, PK, SK
from engagements.store.dynamodb import DynamoStore
from engagements.store.sqlite import SQLiteStore
from sync.cloud import Retention, sync_all
from tests.cloudgame import Calls
from tests.conftest import ADMIN, Table, create_game
from tests.test_game import play_round
from web.keys import GAMES, STORE

NICKS = ("Ann", "Bob", "Cy")
VOTES = {"Ann": "Bob", "Bob": "Ann", "Cy": "Ann"}  # Ann's answer gets two votes, Bob's one: Ann, Bob, Cy


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def to_the_podium(table: Table) -> None:
    for nick in NICKS:
        await table.join(nick)
    await table.host.ok("start")
    await play_round(table, 0, VOTES)
    await table.host.ok("next", round=0)
    await table.host.phase("finished")


async def get(table: Table, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with table.http.get(path, headers=headers or {}) as r:
        return r.status, await r.json(content_type=None)


async def test_the_host_reads_a_finished_game_and_nobody_else_does(any_table_factory) -> None:
    table = await any_table_factory(prompts=["Only prompt"])
    other = await any_table_factory(prompts=["Another game"])
    await to_the_podium(table)
    host, game = bearer(table.created["host_token"]), f"/api/games/{table.game_id}"

    status, listed = await get(table, "/api/history", ADMIN)
    assert status == 200 and [g["id"] for g in listed["games"]] == [table.game_id], "finished games only"
    assert listed["games"][0]["status"] == "finished" and listed["next"] is None
    paged, after = [], None
    while True:  # a page at a time, the cursor round-tripping through the query string
        async with table.http.get(
            "/api/history", params={"limit": "1", **({"after": after} if after else {})}, headers=ADMIN
        ) as r:
            page = await r.json()
        paged += [g["id"] for g in page["games"]]
        if (after := page["next"]) is None:
            break
    assert paged == [table.game_id]
    for refused in ({}, host):  # no public listing, not even for a host
        assert (await get(table, "/api/history", refused))[0] == 401

    status, read = await get(table, f"{game}/history", host)
    assert status == 200, read
    assert [(p["rank"], p["nickname"]) for p in read["podium"]] == [(1, "Ann"), (2, "Bob"), (3, "Cy")]
    assert read["podium"][0]["score"] > read["podium"][1]["score"] > 0
    assert read["game"]["title"] == "Quiz night" and read["game"]["players"] == 3
    (round_,) = read["rounds"]
    assert (round_["prompt"], round_["outcome"], round_["result_rows"]) == ("Only prompt", "scored", 3)
    assert "export.xlsx" in read["files"]
    assert (await get(table, f"{game}/history", ADMIN))[1] == read, "the admin reads it too"
    for refused in ({}, bearer(other.created["host_token"]), bearer("wrong.token")):
        status, body = await get(table, f"{game}/history", refused)
        assert (status, body["error"]["code"]) == (401, "unauthorized")

    status, first = await get(table, f"{game}/rounds/1/results?limit=2", host)
    assert status == 200 and (first["total"], len(first["results"]), first["next"]) == (3, 2, 2)
    status, last = await get(table, f"{game}/rounds/1/results?limit=2&offset=2", host)
    assert status == 200 and (len(last["results"]), last["next"]) == (1, None)
    rows = first["results"] + last["results"]
    assert [r["author"] for r in rows] == ["Ann", "Bob", "Cy"] and rows[0]["votes"] == 2
    assert (await get(table, f"{game}/rounds/1/results", bearer(other.created["host_token"])))[0] == 401
    assert (await get(table, f"{game}/rounds/2/results", host))[0] == 404
    assert (await get(table, f"{game}/rounds/1/results?limit=0", host))[0] == 400
    assert (await get(table, "/api/history?after=nonsense", ADMIN))[0] == 400
    async with table.http.get(f"{game}/export.json", headers=host) as r:
        assert r.status == 200 and (await r.json())["rounds"][0]["results"] == rows, "the export's rows"
    await table.close()
    await other.close()


async def test_a_game_synced_from_the_appliance_opens_in_the_cloud_with_its_host_token_for_reading(
    server, http, cloud_local, cloud_table, moto_endpoint
) -> None:
    played = await create_game(http, prompts=["Only prompt"])
    await to_the_podium(played)
    await played.close()
    await asyncio.sleep(0.2)  # the finished game settles (the server's keep_delay)
    cloud = await DynamoStore.open(cloud_table, endpoint_url=moto_endpoint)
    try:
        retention, types = Retention(local_days=7), server.app[GAMES].types
        local = server.app[STORE]
        (report,) = await sync_all(local, cloud, now_ms=now_ms(), retention=retention, types=types)
        assert report.status == "synced"
        meta = await cloud.get(items.game_pk(played.game_id), items.META)
    finally:
        await cloud.close()
    assert meta is not None and lifecycle.READER in meta and "host_token_hash" not in meta

    session, socket_url = cloud_local
    hosted = await create_game(session, prompts=["Hosted here"], socket_url=socket_url)
    in_cloud = Table(session, {**played.created}, socket_url)  # the appliance's game, the cloud's API
    host, game = bearer(played.created["host_token"]), f"/api/games/{played.game_id}"

    status, listed = await get(in_cloud, "/api/history", ADMIN)
    assert status == 200 and [g["id"] for g in listed["games"]] == [played.game_id]
    assert listed["games"][0]["synced_at"] == report.synced_at
    status, read = await get(in_cloud, f"{game}/history", host)
    assert status == 200 and [p["nickname"] for p in read["podium"]] == list(NICKS)
    status, rows = await get(in_cloud, f"{game}/rounds/1/results", host)
    assert status == 200 and rows["total"] == 3
    async with session.get(f"{game}/export.zip", headers=host) as r:
        assert r.status == 200 and r.content_type == "application/zip"
    for refused in ({}, bearer(hosted.created["host_token"])):
        assert (await get(in_cloud, f"{game}/history", refused))[0] == 401

    # The reader hash opens the history, not the console: the cloud's socket refuses the host token.
    ws = await session.ws_connect(socket_url(played.game_id))
    await ws.send_json({"type": "hello", "token": played.created["host_token"], "view": "host"})
    refusal = await ws.receive_json(timeout=5)
    assert refusal["type"] == "error" and refusal["code"] == "unauthorized"
    await ws.close()
    await hosted.close()


def finished_meta(n: int, synced: bool) -> dict[str, Any]:
    """The META of a finished game, the n-th to finish; only what the listing reads."""
    game_id = f"g{n:03d}"
    finished = 1_700_000_000_000 + n * 1000
    return {
        PK: items.game_pk(game_id),
        SK: items.META,
        "id": game_id,
        "title": f"Game {n}",
        "type": "answer-vote",
        "status": "finished",
        "created_at": finished - 60_000,
        "finished_at": finished,
        "synced_at": finished + 500 if synced else None,
        GSI1PK: items.SYNCED_GAMES if synced else items.FINISHED_GAMES,
        GSI1SK: f"{finished:015d}#{game_id}",
    }


@pytest.fixture(params=["sqlite", "dynamodb"])
async def store(request, tmp_path, cloud_table, moto_endpoint):
    if request.param == "sqlite":
        opened = await SQLiteStore.open(tmp_path / "store.db")
    else:
        opened = await DynamoStore.open(cloud_table, endpoint_url=moto_endpoint)
    yield opened
    await opened.close()


async def test_the_listing_pages_newest_first_through_the_index_without_a_scan(store) -> None:
    metas = [finished_meta(n, synced=n % 3 != 0) for n in range(11)]  # synced and not, interleaved
    await store.batch_write(puts=metas)
    await store.batch_write(puts=[{PK: "GAME#g000", SK: "PLAYER#p1", "nickname": "not listed"}])
    calls = Calls(store.client) if isinstance(store, DynamoStore) else None

    pages, after = [], None
    while True:
        page = await history.games(store, {"limit": "4", **({"after": after} if after else {})})
        pages.append([g["id"] for g in page["games"]])
        after = page["next"]
        if after is None:
            break
    newest_first = [f"g{n:03d}" for n in reversed(range(11))]
    assert [g for p in pages for g in p] == newest_first
    assert [len(p) for p in pages[:3]] == [4, 4, 3] and len(pages) <= 4
    if calls is not None:
        assert set(calls.operations) == {"Query"}, calls.operations
        assert calls.operations["Query"] == 2 * len(pages), "two index queries a page, never a scan"
