"""Webhooks of the cloud stack, on the local gateway and moto: a game finished in the cloud is announced
with the appliance's signed event, retried through the deadline queue (SQS) after a failure."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from cloud.webhooks import post
from engagements import webhooks
from engagements.store.dynamodb import DynamoStore
from tests.hooks import Script, play_to_the_podium, receivers, until
from web.webhooks import Webhooks


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "web.cli", "webhooks", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ.copy())


@pytest.fixture
async def receiver():
    async with receivers() as make:
        yield make


async def test_a_game_finished_in_the_cloud_is_delivered_signed_and_retried_through_the_deadline_queue(
    monkeypatch, moto_endpoint, cloud_table, receiver, cloud_local
):
    # The functions read these at each invocation: receivers on loopback (this machine), retries after 1 s.
    monkeypatch.setenv("WEBHOOK_PRIVATE_TARGETS", "1")
    monkeypatch.setenv("WEBHOOK_RETRY_SECONDS", "1")
    r, url = await receiver(Script(500, 200))
    where = ("--table", cloud_table, "--endpoint-url", moto_endpoint)
    refused = cli("add", url, *where)
    assert refused.returncode != 0 and "private or loopback" in refused.stderr, "the cloud's default"
    added = cli("add", url, *where, "--allow-private")
    assert added.returncode == 0, added.stderr
    hook_id = added.stdout.split()[2].rstrip(":")
    r.secret = added.stdout.strip().splitlines()[-1]

    http, socket_url = cloud_local
    table = await play_to_the_podium(http, socket_url=socket_url)
    await until(lambda: _count(r, 2), "a failed attempt, then the retry through the deadline queue")
    first, second = r.received
    assert first.event == second.event, "the same event, retried"
    event = second.event
    assert (event["type"], event["source"]) == ("game.finished", "cloud")
    assert event["data"]["game"]["id"] == table.game_id and event["data"]["game"]["players"] == 3
    assert event["data"]["podium"][0]["nickname"] == "Ann"
    assert second.headers[webhooks.ID_HEADER] == event["id"]

    store = await DynamoStore.open(cloud_table, endpoint_url=moto_endpoint)
    try:
        hooks = Webhooks(store, lambda: 0)

        async def delivered():
            (hook,) = await hooks.listing()
            log = hook["deliveries"]
            return log if log and log[0]["status"] == "delivered" else None

        (delivery,) = await until(delivered, "the delivery log says delivered")
    finally:
        await store.close()
    assert (delivery["attempts"], delivery["last_status"], delivery["event_id"]) == (2, 200, event["id"])
    listed = cli("list", *where)
    assert listed.returncode == 0 and hook_id in listed.stdout and "delivered" in listed.stdout
    assert r.secret not in listed.stdout
    removed = cli("remove", hook_id, *where)
    assert removed.returncode == 0, removed.stderr
    assert "No webhooks" in cli("list", *where).stdout
    await table.close()


async def _count(r, n: int) -> bool:
    return len(r.received) >= n


async def test_the_cloud_posts_only_to_public_addresses_unless_told_and_pins_the_checked_one(receiver):
    r, url = await receiver()
    r.secret = "s" * 43
    body = b'{"id": "ev1", "type": "webhook.test"}'
    headers = {webhooks.SIGNATURE_HEADER: webhooks.sign(r.secret, body, int(time.time()))}
    for refused in (url, url.replace("127.0.0.1", "localhost"), "http://169.254.169.254/latest/meta-data"):
        result = await asyncio.to_thread(post, refused, body, headers, 5.0, False)
        assert result.status is None and "never sent to" in result.error, refused
    assert r.received == [], "nothing was sent"
    result = await asyncio.to_thread(post, url.replace("127.0.0.1", "localhost"), body, headers, 5.0, True)
    assert result.delivered and [got.event["id"] for got in r.received] == ["ev1"]
    assert r.received[0].headers["Host"].startswith("localhost:"), "the URL's name, at the checked address"
