"""The appliance with the cloud: serving games from a DynamoDB table, and syncing in the background."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import subprocess
import sys
from urllib.parse import urlparse

import aiohttp
import pytest

from engagements.store.dynamodb import DynamoStore
from sync.target import Target
from tests.conftest import ADMIN, create_game
from tests.faults import FaultProxy, TcpProxy, unknown_operation
from tests.test_sync import HOME_ONLY, PAGES, finished_game, partition
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
    target = Target(table=cloud_table, endpoint_url=f"http://127.0.0.1:{port}", cloud_retention_days=3)
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
        in_cloud = await partition(cloud, game_id)
        assert len(in_cloud) == len(await partition(local, game_id)) + PAGES
        synced_at = (await local.get(f"GAME#{game_id}", "META"))["synced_at"]
        assert {i["ttl"] for i in in_cloud} == {synced_at // 1000 + 3 * 86400}, "the setting's retention"
        assert not any(a in i for i in in_cloud for a in HOME_ONLY)
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


def serve_command(settings, *args: str) -> list[str]:
    command = [sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", str(settings.port)]
    return [*command, "--no-mdns", "--data-dir", str(settings.data_dir), *args]


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["--store", "dynamodb", "--table", "TABLE", "--endpoint-url", "PROXY"],
            "does not support TransactWriteItems",
        ),
        (
            ["--store", "dynamodb", "--table", "tbl", "--endpoint-url", "localhost:8000"],
            "--endpoint-url must be a URL",
        ),
        (["--auto-sync", "--table", "tbl", "--region", "moon base"], "--region must be a region name"),
        (
            ["--store", "dynamodb", "--stack", "prod", "--endpoint-url", "PROXY"],
            "does not answer CloudFormation",
        ),
    ],
)
def test_serve_refuses_a_bad_cloud_option_or_endpoint_in_one_line(
    args, expected, settings, cloud_table, moto_endpoint
):
    proxy = FaultProxy(moto_endpoint)
    proxy.inject("TransactWriteItems", unknown_operation, times=10)
    args = [{"PROXY": proxy.url, "TABLE": cloud_table}.get(a, a) for a in args]
    try:
        out = subprocess.run(serve_command(settings, *args), capture_output=True, text=True, timeout=60)
    finally:
        proxy.stop()
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], out.stderr


async def test_an_operation_the_endpoint_lacks_is_logged_and_not_retried(
    aiohttp_server, settings, cloud_table, moto_endpoint, caplog
):
    proxy = FaultProxy(moto_endpoint)
    cloud = Target(table=cloud_table, endpoint_url=proxy.url)
    server = await aiohttp_server(
        create_app(dataclasses.replace(settings, store="dynamodb", cloud=cloud)),
        host="127.0.0.1",
        port=settings.port,
    )
    proxy.inject("TransactWriteItems", unknown_operation, times=10)  # the endpoint changed under us
    try:
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as http:
            with caplog.at_level(logging.ERROR):
                async with http.post("/api/games", json={"title": "T", "prompts": ["P"]}, headers=ADMIN) as r:
                    assert r.status == 503
    finally:
        proxy.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"DynamoDB at {proxy.url} does not support TransactWriteItems" in e for e in errors), errors
    assert proxy.actions.count("TransactWriteItems") == 2, "the probe at start, then one try: no retries"
