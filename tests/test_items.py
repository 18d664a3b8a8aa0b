"""The items a game leaves in the single table: keys, index entries and expiry, as the docs lay them out."""

from __future__ import annotations

import asyncio

import pytest

from engagements.store.base import GSI1, TTL
from tests.conftest import create_game
from tests.test_game import play_round
from web.keys import STORE


async def partition(store, game_id: str) -> dict[str, dict]:
    return {item["SK"]: item for item in await store.query_all(f"GAME#{game_id}")}


async def test_live_game_items_expire_but_a_finished_unsynced_game_never_does(server, http):
    store = server.app[STORE]
    table = await create_game(http, prompts=["Only one"])
    for nick in ("Ann", "Bob"):
        await table.join(nick)
    await table.host.ok("start")
    await play_round(table, 0, {"Ann": "Bob", "Bob": "Ann"})
    items = await partition(store, table.game_id)
    assert all(TTL in item for item in items.values())
    assert {sk.split("#")[0] for sk in items} == {"META", "PROMPT", "PLAYER", "NICK", "ENTRY"}
    live = await store.query_all("GAMES#live", index=GSI1)
    assert [i["id"] for i in live] == [table.game_id]

    await table.host.ok("next", round=0)
    await table.host.phase("finished")
    for _ in range(100):  # the items lose their expiry a moment after the podium
        items = await partition(store, table.game_id)
        if not [sk for sk, item in items.items() if TTL in item]:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("a finished, unsynced game still expires")
    assert TTL not in await store.get(f"CODE#{table.created['code']}", "CODE")
    assert await store.query_all("GAMES#live", index=GSI1) == []
    finished = await store.query_all("GAMES#finished", index=GSI1)
    assert [i["id"] for i in finished] == [table.game_id]
    # Tokens are kept only as hashes.
    for token in [table.created["host_token"], *table.tokens.values()]:
        assert all(token.split(".")[1] not in str(item) for item in items.values())
    await table.close()
