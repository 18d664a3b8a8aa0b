"""The appliance with the cloud: serving games from a DynamoDB table, and syncing in the background."""

from __future__ import annotations

import asyncio
import dataclasses
from urllib.parse import urlparse

import aiohttp
import pytest

from engagements.store.dynamodb import DynamoStore
from sync.target import Target
from tests.conftest import create_game
from tests.faults import TcpProxy
from tests.test_sync import finished_game, partition
from web.app import create_app
from web.keys import STORE


@pytest.fixture
async def cloud_http(aiohttp_server, settings, cloud_table, moto_endpoint):
    cloud = Target(table=cloud_table, endpoint_url=moto_endpoint)
    app = create_app(dataclasses.replace(settings, store="dynamodb", cloud=cloud))
    server = await aiohttp_server(app, host="127.0.0.1", port=settings.port)
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
        yield server, session


async def test_a_whole_game_is_served_from_the_dynamodb_table(cloud_http):
    server, http = cloud_http
    game_id = await finished_game(http, ("Ann", "Bob", "Cy", "Dee"))
    store = server.app[STORE]
    assert isinstance(store, DynamoStore)
    items = {i["SK"]: i for i in await partition(store, game_id)}
    assert items["META"]["status"] == "finished" and items["META"]["GSI1PK"] == "GAMES#finished"
    assert sum(sk.startswith("ENTRY#") for sk in items) == 8, "four answers and four votes"
    assert sum(i.get("score", 0) for sk, i in items.items() if sk.startswith("PLAYER#")) > 0


async def test_auto_sync_uploads_finished_games_and_retries_until_the_network_is_back(
    aiohttp_server, settings, cloud_table, moto_endpoint
):
    proxy = TcpProxy(urlparse(moto_endpoint).port)
    port = await proxy.start()
    target = Target(table=cloud_table, endpoint_url=f"http://127.0.0.1:{port}")
    app = create_app(dataclasses.replace(settings, auto_sync=True, cloud=target, sync_interval=0.2))
    server = await aiohttp_server(app, host="127.0.0.1", port=settings.port)
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as http:
        proxy.cut()  # the venue's internet is down while the game is played
        game_id = await finished_game(http)
        local = server.app[STORE]
        await asyncio.sleep(1)
        assert (await local.get(f"GAME#{game_id}", "META"))["GSI1PK"] == "GAMES#finished"

        await proxy.start(port)  # ... and back
        for _ in range(100):
            if (await local.get(f"GAME#{game_id}", "META"))["GSI1PK"] == "GAMES#synced":
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the game was not synced after the network came back")
        cloud = await DynamoStore.open(cloud_table, endpoint_url=moto_endpoint)
        assert len(await partition(cloud, game_id)) == len(await partition(local, game_id))
        await cloud.close()

        # The host console of a finished game learns it is in the cloud without reloading.
        table = await create_game(http, prompts=["One"])
        await table.join("Zed")
        await table.host.ok("start")
        await table.players["Zed"].ok("answer", round=0, text="solo")
        await table.host.phase("results")
        await table.host.ok("next", round=0)
        await table.host.phase("finished")
        refreshed = await table.host.expect("snapshot", timeout=10)
        assert refreshed["game"]["synced_at"] is not None
        await table.close()
    proxy.cut()
