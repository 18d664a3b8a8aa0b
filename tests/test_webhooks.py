"""Webhooks on the appliance: signed events about finished games reach a real receiver on 127.0.0.1,
once, retried with backoff, after a kill -9 too, and never at a game's expense."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
import stat
import subprocess
import sys
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from engagements import webhooks
from engagements.deliveries import Retry
from engagements.store.base import GSI1
from sync.target import Target
from tests.conftest import ADMIN, ADMIN_SECRET
from tests.hooks import Script, add_webhook, log_of, play_to_the_podium, receivers, settled, until
from tests.test_sync import finished_game, run_sync
from web.app import create_app
from web.keys import GAMES, STORE

FAST = Retry(first=0.3, timeout=2.0, attempts=5)


@dataclasses.dataclass
class Appliance:
    http: aiohttp.ClientSession
    app: web.Application


@pytest.fixture
async def hooked(aiohttp_server, settings):
    """`start(retry)`: a real server whose webhooks retry quickly, with an HTTP session on it."""

    async def start(retry: Retry = FAST, **changes: Any) -> Appliance:
        app = create_app(dataclasses.replace(settings, webhooks=retry, **changes))
        server = await aiohttp_server(app, host="127.0.0.1", port=settings.port)
        server.app[GAMES].keep_delay = 0.01
        session = aiohttp.ClientSession(base_url=str(server.make_url("/")))
        sessions.append(session)
        return Appliance(session, server.app)

    sessions: list[aiohttp.ClientSession] = []
    yield start
    for session in sessions:
        await session.close()


@pytest.fixture
async def receiver():
    async with receivers() as make:
        yield make


# -- signatures -------------------------------------------------------------------------------------------


async def test_a_receiver_verifies_the_signature_and_refuses_a_tampered_body_or_an_old_timestamp(receiver):
    r, url = await receiver()
    r.secret = webhooks.new_secret()
    event = webhooks.test_event(1_700_000_000_000, "appliance")
    body = webhooks.encode(event).encode()
    now = int(time.time())

    async def send(data: bytes, signature: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[webhooks.SIGNATURE_HEADER] = signature
        async with aiohttp.ClientSession() as s, s.post(url, data=data, headers=headers) as answer:
            return answer.status

    assert await send(body, webhooks.sign(r.secret, body, now)) == 200
    assert [got.event for got in r.received] == [event]
    tampered = body.replace(b"this webhook works", b"send money elsewhere")
    assert await send(tampered, webhooks.sign(r.secret, body, now)) == 400
    assert await send(body, webhooks.sign(r.secret, body, now - webhooks.TOLERANCE - 1)) == 400, "a replay"
    assert await send(body, webhooks.sign(r.secret, body, now + webhooks.TOLERANCE + 60)) == 400
    assert await send(body, webhooks.sign("another secret", body, now)) == 400
    assert await send(body, None) == 400
    assert await send(body, f"t={now},v1=") == 400
    assert len(r.received) == 1, "only the honest delivery got through"
    assert any("altered" in why for why in r.refused) and any("replay" in why for why in r.refused)
    # A header may carry several signatures (a secret rolled over): one that matches is enough.
    current = webhooks.sign(r.secret, body, now).split("v1=")[1]
    both = f"{webhooks.sign('the old secret', body, now)},v1={current}"
    assert await send(body, both) == 200


def test_backoff_grows_with_jitter_never_below_half_its_step_and_up_to_the_cap():
    retry = Retry(first=10, cap=3600)
    for made in range(1, 20):
        step = min(3600, 10 * 2 ** (made - 1))
        assert step / 2 <= retry.delay(made, 0.0) <= retry.delay(made, 0.999) <= step
    assert retry.delay(3, 0.0) > retry.delay(1, 0.999), "the waits grow"


@pytest.mark.parametrize(
    "url, why",
    [
        ("ftp://example.org/hook", "http:// or https://"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://user:pass@example.org/", "user name or password"),
        ("http://224.0.0.1/", "one host"),
        ("http:///nohost", "name a host"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http://example.org/a b", "printable ASCII"),
    ],
)
async def test_only_http_urls_of_one_reachable_host_are_accepted(hooked, url, why):
    http = (await hooked()).http
    async with http.post("/api/webhooks", json={"url": url}, headers=ADMIN) as r:
        assert r.status == 400
        assert why in (await r.json())["error"]["message"]


async def test_webhooks_need_the_admin_secret_and_the_secret_is_shown_only_once(hooked, receiver):
    http = (await hooked()).http
    _, url = await receiver()
    async with http.post("/api/webhooks", json={"url": url}) as r:
        assert r.status == 401
    async with http.get("/api/webhooks") as r:
        assert r.status == 401
    made = await add_webhook(http, url)
    assert len(made["secret"]) >= 40
    async with http.get("/api/webhooks", headers=ADMIN) as r:
        listed = await r.text()
    assert made["webhook"]["id"] in listed and url in listed
    assert made["secret"] not in listed, "never shown after it was made"
    async with http.delete(f"/api/webhooks/{made['webhook']['id']}") as r:
        assert r.status == 401
    async with http.delete(f"/api/webhooks/{made['webhook']['id']}", headers=ADMIN) as r:
        assert r.status == 200
    async with http.delete(f"/api/webhooks/{made['webhook']['id']}", headers=ADMIN) as r:
        assert r.status == 404


# -- a finished game ---------------------------------------------------------------------------------------


async def test_a_finished_game_delivers_exactly_one_signed_event_with_its_podium_and_nothing_secret(
    hooked, receiver
):
    appliance = await hooked()
    http = appliance.http
    r, url = await receiver()
    made = await add_webhook(http, url)
    r.secret = made["secret"]
    table = await play_to_the_podium(http)

    (delivery,) = await settled(http, made["webhook"]["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["last_status"] == 200
    assert delivery["event"] == "game.finished"
    await asyncio.sleep(FAST.lease)  # long enough for a second copy, were one to come
    assert len(r.received) == 1
    got = r.received[0]
    event = got.event
    assert event["type"] == "game.finished" and event["source"] == "appliance"
    assert got.headers[webhooks.EVENT_HEADER] == "game.finished"
    assert got.headers[webhooks.ID_HEADER] == event["id"] == delivery["event_id"]
    game = event["data"]["game"]
    assert (game["id"], game["title"], game["players"], game["rounds"]) == (table.game_id, "Quiz night", 3, 1)
    assert game["finished_at"] >= game["created_at"]
    podium = event["data"]["podium"]
    assert podium[0] == {"rank": 1, "nickname": "Ann", "score": podium[0]["score"]}
    assert {p["nickname"] for p in podium} <= {"Ann", "Bob", "Cy"} and podium[0]["score"] > 0

    # Nothing that opens anything leaves the appliance: no token, secret, hash or join code.
    raw = json.dumps(event)
    items = await appliance.app[STORE].query_all(f"GAME#{table.game_id}")
    hashes = [
        i[k]
        for i in items
        for k in ("token_hash", "host_token_hash", "client", "device", "address")
        if i.get(k)
    ]
    meta = next(i for i in items if i["SK"] == "META")
    secrets = [
        table.created["host_token"],
        *table.tokens.values(),
        made["secret"],
        ADMIN_SECRET,
        meta["secret"],
    ]
    for secret in [*secrets, *hashes]:
        assert secret not in raw and secret.split(".")[-1] not in raw
    assert table.created["code"] not in raw, "the join code stays home"
    assert not await appliance.app[STORE].query_all("DELIVERIES#due", index=GSI1), "none left pending"
    await table.close()


async def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt_after_growing_waits(
    hooked, receiver
):
    http = (await hooked()).http
    r, url = await receiver(Script(500, 503, 200))
    made = await add_webhook(http, url)
    r.secret = made["secret"]
    table = await play_to_the_podium(http)

    (delivery,) = await settled(http, made["webhook"]["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("delivered", 3, 200)
    assert [got.event["id"] for got in r.received] == [delivery["event_id"]] * 3, "one event, three attempts"
    assert len({got.signed_at for got in r.received}) >= 1
    first, second, third = (got.arrived for got in r.received)
    # Backoff with jitter: each wait at least half its step (0.3 s, then 0.6 s); lower bounds only.
    assert second - first >= FAST.first / 2
    assert third - second >= FAST.first
    await table.close()


async def test_a_receiver_that_hangs_slows_no_game_and_its_delivery_times_out_and_is_retried(
    hooked, receiver
):
    http = (await hooked(Retry(first=0.3, timeout=3.0, attempts=5))).http
    script = Script("hang", 200)
    r, url = await receiver(script)
    made = await add_webhook(http, url)
    r.secret = made["secret"]

    first = await play_to_the_podium(http)
    await until(lambda: asyncio.sleep(0, result=r.received), "the first delivery reached the receiver")
    # While the receiver holds that delivery open, another game plays from start to podium.
    started = time.monotonic()
    second = await play_to_the_podium(http, ("Dee", "Eve", "Fay"))
    played = time.monotonic() - started
    log = await settled(http, made["webhook"]["id"], count=2)
    by_game = {d["event_id"]: d for d in log}
    hung = next(d for d in log if d["event_id"] == r.received[0].event["id"])
    assert hung["status"] == "delivered" and hung["attempts"] >= 2, "timed out, then retried"
    assert all(d["status"] == "delivered" for d in by_game.values())
    finished = {got.event["data"]["game"]["id"] for got in r.received}
    assert finished == {first.game_id, second.game_id}
    started = time.monotonic()  # the same game with nothing held open: a figure to compare, not asserted
    third = await play_to_the_podium(http, ("Gil", "Hal", "Ivy"))
    alone = time.monotonic() - started
    figures = f"{played:.3f} s with a delivery hung, {alone:.3f} s without"
    print(f"\na game to its podium (3 joins, 8 commands): {figures}")
    for table in (first, second, third):
        await table.close()


async def test_the_admin_sends_a_test_event_and_sees_it_in_the_log(hooked, receiver):
    http = (await hooked()).http
    r, url = await receiver()
    made = await add_webhook(http, url)
    r.secret = made["secret"]
    hook_id = made["webhook"]["id"]
    async with http.post(f"/api/webhooks/{hook_id}/test", headers=ADMIN) as answer:
        assert answer.status == 202
        queued = (await answer.json())["delivery"]
    assert queued["status"] == "pending" and queued["event"] == "webhook.test"
    (delivery,) = await settled(http, hook_id)
    assert delivery["event_id"] == queued["event_id"] and delivery["status"] == "delivered"
    assert [got.event["type"] for got in r.received] == ["webhook.test"]
    async with http.post("/api/webhooks/whnosuchhook/test", headers=ADMIN) as answer:
        assert answer.status == 404


async def test_a_dead_receiver_is_given_up_after_the_last_attempt_and_the_log_says_why(hooked, receiver):
    http = (await hooked(Retry(first=0.1, timeout=1.0, attempts=3))).http
    r, url = await receiver()
    await r.close()  # nobody listens there any more
    made = await add_webhook(http, url)
    async with http.post(f"/api/webhooks/{made['webhook']['id']}/test", headers=ADMIN) as answer:
        assert answer.status == 202
    (delivery,) = await settled(http, made["webhook"]["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("failed", 3, None)
    assert "cannot connect to 127.0.0.1" in delivery["last_error"]


# -- kill -9 ----------------------------------------------------------------------------------------------


async def test_a_pending_delivery_survives_kill_9_and_is_delivered_after_the_restart(
    server_process, receiver
):
    script = Script(500)
    r, url = await receiver(script)
    options = ("--no-mdns", "--webhook-retry", "0.3", "--webhook-timeout", "2")
    appliance = server_process(*options)
    await appliance.start()
    async with aiohttp.ClientSession(base_url=appliance.url) as http:
        made = await add_webhook(http, url)
        r.secret = made["secret"]
        table = await play_to_the_podium(http)
        await until(lambda: asyncio.sleep(0, result=r.received), "a first attempt, answered 500")
        await table.close()
    appliance.kill()  # with the delivery pending: it has failed and waits for its retry
    attempts_before = len(r.received)
    script.answers = [200]  # the receiver is fixed meanwhile

    again = server_process(*options)
    await again.start()
    async with aiohttp.ClientSession(base_url=again.url) as http:
        (delivery,) = await settled(http, made["webhook"]["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] > attempts_before >= 1
    assert {got.event["id"] for got in r.received} == {delivery["event_id"]}, "the same event, retried"
    assert r.received[-1].event["data"]["game"]["id"] == table.game_id


# -- game synced --------------------------------------------------------------------------------------


async def test_a_synced_game_emits_game_synced_after_game_finished(
    hooked, receiver, cloud_table, moto_endpoint
):
    target = Target(table=cloud_table, endpoint_url=moto_endpoint)
    appliance = await hooked(auto_sync=True, cloud=target, sync_interval=0.2)
    r, url = await receiver()
    made = await add_webhook(appliance.http, url)
    r.secret = made["secret"]
    game_id = await finished_game(appliance.http)

    log = await settled(appliance.http, made["webhook"]["id"], count=2)
    assert sorted(d["event"] for d in log) == ["game.finished", "game.synced"]
    synced = next(got.event for got in r.received if got.event["type"] == "game.synced")
    meta = await appliance.app[STORE].get(f"GAME#{game_id}", "META")
    assert synced["data"]["game"]["id"] == game_id
    assert synced["data"]["game"]["synced_at"] == meta["synced_at"]
    assert [got.event["type"] for got in r.received].count("game.synced") == 1


async def test_engagements_sync_queues_game_synced_with_the_mark_for_the_appliance_to_send(
    hooked, receiver, settings, cloud_table, moto_endpoint
):
    appliance = await hooked()
    r, url = await receiver()
    made = await add_webhook(appliance.http, url)
    r.secret = made["secret"]
    game_id = await finished_game(appliance.http)
    await settled(appliance.http, made["webhook"]["id"])  # game.finished

    args = ("--table", cloud_table, "--endpoint-url", moto_endpoint)
    synced = await asyncio.to_thread(run_sync, settings, *args)
    assert synced.returncode == 0, synced.stderr
    log = await log_of(appliance.http, made["webhook"]["id"])
    assert [d["event"] for d in log] == ["game.synced", "game.finished"], "queued by the sync, in the store"
    partition = f"HOOK#{made['webhook']['id']}"
    newest = await appliance.app[STORE].query(partition, "DELIVERY#", limit=1, reverse=True)
    (item,) = newest.items
    assert json.loads(item["body"])["data"]["game"]["id"] == game_id
    # The appliance's worker sends it when it next looks (it polls every 30 s); nobody nudged it.
    assert item["status"] in ("pending", "delivered")


# -- the command line ----------------------------------------------------------------------------------


def webhooks_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "web.cli", "webhooks", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env={**os.environ, **env})


async def test_the_cli_adds_tests_lists_and_removes_and_its_test_receiver_checks_signatures(
    server_process, unused_tcp_port_factory, settings
):
    appliance = server_process("--no-mdns", "--webhook-retry", "0.3")
    await appliance.start()
    port = unused_tcp_port_factory()
    where = ("--server", appliance.url)
    run = functools.partial(asyncio.to_thread, webhooks_cli)
    assert "admin secret" in (await run("list", *where, "--data-dir", str(settings.data_dir / "none"))).stderr
    added = await run("add", f"http://127.0.0.1:{port}/in", *where, ENGAGEMENTS_ADMIN_SECRET=ADMIN_SECRET)
    assert added.returncode == 0, added.stderr
    hook_id = added.stdout.split()[2].rstrip(":")
    secret = added.stdout.strip().splitlines()[-1]

    receiver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli", "webhooks", "test-receiver", "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "ENGAGEMENTS_WEBHOOK_SECRET": secret},
    )  # fmt: skip
    try:
        assert "Listening on" in (await asyncio.wait_for(receiver.stdout.readline(), 30)).decode()
        tested = await run("test", hook_id, *where, ENGAGEMENTS_ADMIN_SECRET=ADMIN_SECRET)
        assert tested.returncode == 0, tested.stderr
        line = await asyncio.wait_for(receiver.stdout.readline(), 30)
        assert b"webhook.test" in line and b"signature verified" in line
        async with aiohttp.ClientSession() as s, s.post(f"http://127.0.0.1:{port}/in", data=b"{}") as r:
            assert r.status == 400
        async with asyncio.timeout(30):
            while b"refused a delivery" not in (line := await receiver.stdout.readline()):
                assert line, "the receiver stopped"

        async def listed() -> str | None:
            out = (await run("list", *where, ENGAGEMENTS_ADMIN_SECRET=ADMIN_SECRET)).stdout
            return out if "delivered" in out else None

        out = await until(listed, "the test event listed as delivered")
        assert hook_id in out and "webhook.test" in out and secret not in out
        removed = await run("remove", hook_id, *where, ENGAGEMENTS_ADMIN_SECRET=ADMIN_SECRET)
        assert removed.returncode == 0, removed.stderr
        assert "No webhooks" in (await run("list", *where, ENGAGEMENTS_ADMIN_SECRET=ADMIN_SECRET)).stdout
    finally:
        receiver.terminate()
        await receiver.wait()
    database = settings.data_dir / "engagements.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600, "it holds the webhooks' secrets"
