"""`engagements sync`: finished games go up to a real DynamoDB-compatible server, once, whole, verified."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

import boto3
import pytest

from engagements import auth, items, lifecycle
from engagements.plugins import load_types
from engagements.service import now_ms
from engagements.store.base import GSI1, TTL
from engagements.store.dynamodb import DynamoStore
from sync.cloud import Progress, Retention, sync_all
from tests.conftest import create_game
from tests.faults import FaultProxy, TcpProxy, leave_unprocessed, throttle
from tests.test_game import play_round
from web.keys import GAMES, STORE

HOME_ONLY = ("secret", "host_token_hash", "token_hash")  # what docs/architecture.md says stays home
PAGES = 2  # items the copy of a one-round game has besides its partition: the round's result pages
TYPES = load_types()  # what the sync command makes them with (lifecycle.cloud_copy)


async def finished_game(http, nicks=("Ann", "Bob", "Cy")) -> str:
    """A game played to the podium on the appliance, its items settled (no expiry): its id."""
    table = await create_game(http, prompts=["Only prompt"])
    for nick in nicks:
        await table.join(nick)
    await table.host.ok("start")
    await play_round(table, 0, {nicks[i]: nicks[(i + 1) % len(nicks)] for i in range(len(nicks))})
    await table.host.ok("next", round=0)
    await table.host.phase("finished")
    await table.close()
    await asyncio.sleep(0.2)  # the server's keep_delay, and then some
    return table.game_id


async def partition(store, game_id: str) -> list[dict]:
    return await store.query_all(f"GAME#{game_id}")


async def expected_copy(local, game_id: str, cloud_days: int = lifecycle.CLOUD_RETENTION_DAYS) -> list[dict]:
    """What the cloud should hold of a game synced from `local`, by key."""
    copy = lifecycle.cloud_copy(await partition(local, game_id), cloud_days, TYPES)
    return sorted(copy, key=lambda i: i["SK"])


async def cloud_items(cloud, game_id: str) -> list[dict]:
    return sorted(await partition(cloud, game_id), key=lambda i: i["SK"])


def run_sync(settings, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "web.cli", "sync", "--data-dir", str(settings.data_dir), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env or os.environ.copy())


@pytest.fixture
async def cloud(cloud_table, moto_endpoint):
    store = await DynamoStore.open(cloud_table, endpoint_url=moto_endpoint)
    yield store
    await store.close()


async def test_finished_game_goes_up_without_what_stays_home_synced_and_expiring(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    local = server.app[STORE]
    game_id = await finished_game(http)
    before = await partition(local, game_id)
    assert not any(TTL in item for item in before)
    assert {"secret", "host_token_hash"} <= set(next(i for i in before if i["SK"] == "META"))

    args = ("--table", cloud_table, "--endpoint-url", moto_endpoint, "--cloud-retention-days", "30")
    out = run_sync(settings, *args)
    assert out.returncode == 0, out.stderr + out.stdout
    assert f"Synced 1 of 1 games ({len(before) + PAGES} items uploaded)." in out.stdout

    after = {i["SK"]: i for i in await partition(local, game_id)}
    synced_at = after["META"]["synced_at"]
    assert synced_at and after["META"]["GSI1PK"] == "GAMES#synced"
    assert all(TTL in item for item in after.values()), "a synced game may now expire here"
    assert await local.query_all("GAMES#finished", index=GSI1) == []

    in_cloud = {i["SK"]: i for i in await partition(cloud, game_id)}
    pages = {sk: in_cloud.pop(sk) for sk in list(in_cloud) if sk.startswith("RESULTS#")}
    assert set(in_cloud) == set(after), "every item of the game, and no other"
    meta = in_cloud["META"]  # its round's results, paged as the cloud pages its own games' (resultpages)
    assert sorted(pages) == [items.results_sk(0, meta["version"], kind, 0) for kind in ("history", "host")]
    assert {i[TTL] for i in pages.values()} == {synced_at // 1000 + 30 * 86400}
    assert [(p["total"], len(json.loads(p["rows"]))) for p in pages.values()] == [(3, 3), (3, 3)]
    assert not [(sk, a) for sk, i in in_cloud.items() for a in HOME_ONLY if a in i], "nothing that stays home"
    assert {i[TTL] for i in in_cloud.values()} == {synced_at // 1000 + 30 * 86400}, "the cloud's retention"
    meta = in_cloud.pop("META")
    assert meta["GSI1PK"] == "GAMES#synced" and meta["synced_at"] == synced_at
    host_token_hash = next(i for i in before if i["SK"] == "META")["host_token_hash"]
    assert meta.pop(lifecycle.READER) == auth.reader_hash(host_token_hash) != host_token_hash
    in_cloud["META"] = meta  # what reads the history, and nothing else, in the host token's stead
    assert meta["version"] == after["META"]["version"]
    for sk, item in in_cloud.items():  # the rest exactly as played
        local_item = {
            k: v for k, v in after[sk].items() if k not in (*HOME_ONLY, TTL, "sync_at", "cloud_ttl")
        }
        assert {k: v for k, v in item.items() if k != TTL} == local_item
    assert [i["id"] for i in await cloud.query_all("GAMES#synced", index=GSI1)] == [game_id]
    assert await cloud.query_all("GAMES#finished", index=GSI1) == []


async def test_second_sync_changes_nothing_in_the_cloud(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    game_id = await finished_game(http)
    assert run_sync(settings, "--table", cloud_table, "--endpoint-url", moto_endpoint).returncode == 0
    first = await partition(cloud, game_id)
    again = run_sync(settings, "--table", cloud_table, "--endpoint-url", moto_endpoint, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"games": []}
    assert await partition(cloud, game_id) == first


async def test_sync_cut_off_mid_run_is_completed_by_the_next_run(
    server, http, settings, cloud_table, moto_endpoint
):
    local = server.app[STORE]
    games = [await finished_game(http, (f"A{i}", f"B{i}", f"C{i}", f"D{i}")) for i in range(3)]
    before = {g: await partition(local, g) for g in games}
    proxy = TcpProxy(urlparse(moto_endpoint).port)
    port = await proxy.start()
    cloud = await DynamoStore.open(cloud_table, endpoint_url=f"http://127.0.0.1:{port}")
    sent = 0

    def count(n: int) -> None:
        nonlocal sent
        sent += n
        if sent >= 30:  # the network drops part way through the second game
            proxy.cut()

    reports = await sync_all(
        local, cloud, now_ms=now_ms(), retention=Retention(7), types=TYPES, progress=Progress(items=count)
    )
    await cloud.close()
    assert reports[0].status == "synced"
    assert {r.status for r in reports[1:]} == {"failed"}
    assert "cannot reach DynamoDB" in reports[1].error
    assert [i["id"] for i in await local.query_all("GAMES#finished", index=GSI1)] == games[1:]

    resumed = run_sync(settings, "--table", cloud_table, "--endpoint-url", moto_endpoint)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Synced 2 of 2 games" in resumed.stdout
    direct = await DynamoStore.open(cloud_table, endpoint_url=moto_endpoint)
    for game_id, played in before.items():
        assert len(await partition(local, game_id)) == len(played)
        assert await cloud_items(direct, game_id) == await expected_copy(local, game_id), (
            "nothing lost or doubled"
        )
    await direct.close()


async def test_a_newer_cloud_copy_is_never_overwritten_and_the_game_is_reported(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    local = server.app[STORE]
    clash = await finished_game(http)
    fine = await finished_game(http, ("Dee", "Eve"))
    meta = await local.get(f"GAME#{clash}", "META")
    newer = {**meta, "version": meta["version"] + 5, "title": "Edited in the cloud"}
    await cloud.put(newer)
    out = run_sync(settings, "--table", cloud_table, "--endpoint-url", moto_endpoint)
    assert out.returncode == 1
    assert f"failed: {clash}" in out.stdout and "does not match" in out.stdout
    assert await cloud.get(f"GAME#{clash}", "META") == newer
    assert (await local.get(f"GAME#{fine}", "META"))["GSI1PK"] == "GAMES#synced", "the other game went up"
    assert (await local.get(f"GAME#{clash}", "META"))["GSI1PK"] == "GAMES#finished"


async def test_dry_run_lists_the_games_and_changes_nothing(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    game_id = await finished_game(http)
    out = run_sync(settings, "--table", cloud_table, "--endpoint-url", moto_endpoint, "--dry-run")
    assert out.returncode == 0
    assert "Would sync 1 finished games:" in out.stdout and game_id in out.stdout
    assert await partition(cloud, game_id) == []
    meta = await server.app[STORE].get(f"GAME#{game_id}", "META")
    assert meta["GSI1PK"] == "GAMES#finished"


async def test_sync_to_the_table_of_the_base_stack(server, http, settings, moto_endpoint, aws_env):
    from pathlib import Path

    template = (Path(__file__).parent.parent / "deploy" / "base.yaml").read_text()
    client = boto3.client("cloudformation", endpoint_url=moto_endpoint)
    client.create_stack(StackName="engagements-dev", TemplateBody=template, Parameters=[
        {"ParameterKey": "Environment", "ParameterValue": "dev"}
    ])  # fmt: skip
    client.get_waiter("stack_create_complete").wait(StackName="engagements-dev", WaiterConfig={"Delay": 1})
    game_id = await finished_game(http)
    out = run_sync(settings, "--stack", "engagements-dev", "--endpoint-url", moto_endpoint)
    assert out.returncode == 0, out.stderr + out.stdout
    assert (await server.app[STORE].get(f"GAME#{game_id}", "META"))["GSI1PK"] == "GAMES#synced"


@pytest.mark.parametrize(
    "case, expected",
    [
        ("offline", "cannot reach DynamoDB at http://127.0.0.1:9"),
        ("no credentials", "no AWS credentials found"),
        ("no such table", "no such table missing-table"),
        ("wrong schema", "has the wrong schema"),
        ("no such stack", "no such stack nope"),
    ],
)
async def test_sync_errors_are_one_clear_line_and_leave_local_data_untouched(
    case, expected, server, http, settings, moto_endpoint, aws_env
):
    game_id = await finished_game(http)
    env = os.environ.copy()
    args = ["--endpoint-url", moto_endpoint, "--table", "missing-table"]
    if case == "offline":
        args = ["--endpoint-url", "http://127.0.0.1:9", "--table", "tbl"]
    elif case == "no credentials":
        env.pop("AWS_ACCESS_KEY_ID")
        env.pop("AWS_SECRET_ACCESS_KEY")
    elif case == "wrong schema":
        boto3.client("dynamodb", endpoint_url=moto_endpoint).create_table(
            TableName="wrong-schema",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        args = ["--endpoint-url", moto_endpoint, "--table", "wrong-schema"]
    elif case == "no such stack":
        args = ["--endpoint-url", moto_endpoint, "--stack", "nope"]
    out = run_sync(settings, *args, env=env)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], out.stderr
    meta = await server.app[STORE].get(f"GAME#{game_id}", "META")
    assert meta["GSI1PK"] == "GAMES#finished" and "synced_at" in meta and meta["synced_at"] is None


async def test_throttling_and_unprocessed_items_are_retried_until_the_game_is_whole(
    server, http, cloud_table, moto_endpoint, aws_env
):
    local = server.app[STORE]
    game_id = await finished_game(http, ("Ann", "Bob", "Cy", "Dee", "Eve"))
    proxy = FaultProxy(moto_endpoint)
    proxy.inject("BatchWriteItem", leave_unprocessed(3), times=2)
    proxy.inject("BatchWriteItem", throttle, times=2)
    cloud = await DynamoStore.open(cloud_table, endpoint_url=proxy.url)
    try:
        reports = await sync_all(local, cloud, now_ms=now_ms(), retention=Retention(7), types=TYPES)
    finally:
        await cloud.close()
        proxy.stop()
    assert [(r.status, r.error) for r in reports] == [("synced", None)]
    assert proxy.pending("BatchWriteItem") == 0, "every fault was met"
    assert proxy.actions.count("BatchWriteItem") >= 5
    direct = await DynamoStore.open(cloud_table, endpoint_url=moto_endpoint)
    assert len(await partition(direct, game_id)) == reports[0].uploaded == reports[0].items + PAGES
    await direct.close()


async def test_on_a_terminal_the_sync_shows_a_progress_bar(
    server, http, settings, cloud_table, moto_endpoint
):
    import pty

    await finished_game(http)
    primary, secondary = pty.openpty()
    command = [sys.executable, "-m", "web.cli", "sync", "--data-dir", str(settings.data_dir)]
    command += ["--table", cloud_table, "--endpoint-url", moto_endpoint]
    proc = subprocess.Popen(command, stdout=secondary, stderr=secondary, env=os.environ.copy())
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert proc.wait(60) == 0
    text = output.decode(errors="replace")
    assert "Syncing" in text and "100%" in text and "Quiz night" in text, text
    assert "Synced 1 of 1 games" in text


async def test_a_sync_right_after_the_podium_is_not_undone_by_the_finished_game_settling(
    server, http, settings, cloud_table, moto_endpoint
):
    """The appliance drops a finished game's expiry a moment after the podium; a sync may come first."""
    local = server.app[STORE]
    server.app[GAMES].keep_delay = 1.5
    table = await create_game(http, prompts=["Only prompt"])
    for nick in ("Ann", "Bob"):
        await table.join(nick)
    await table.host.ok("start")
    await play_round(table, 0, {"Ann": "Bob", "Bob": "Ann"})
    await table.host.ok("next", round=0)
    await table.host.phase("finished")
    await table.close()
    await asyncio.sleep(1.1)  # expiry is in whole seconds: a real game outlasts the second it began in
    out = run_sync(settings, "--table", cloud_table, "--endpoint-url", moto_endpoint)
    assert out.returncode == 0, out.stderr + out.stdout
    await asyncio.sleep(2)  # the server's own settling has run by now
    items = await partition(local, table.game_id)
    assert items and all(TTL in item for item in items), "a synced game expires after its retention"


def sync_to(settings, cloud_table, moto_endpoint, *args: str) -> subprocess.CompletedProcess:
    return run_sync(settings, "--table", cloud_table, "--endpoint-url", moto_endpoint, *args)


async def test_verify_puts_back_what_the_cloud_lost_while_the_local_copy_exists(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    local = server.app[STORE]
    game_id = await finished_game(http)
    assert sync_to(settings, cloud_table, moto_endpoint).returncode == 0
    whole = await cloud_items(cloud, game_id)
    assert whole == await expected_copy(local, game_id)
    lost = [i for i in whole if i["SK"] == "META" or i["SK"].startswith("PLAYER#")][:3]
    await cloud.batch_write(deletes=[{"PK": i["PK"], "SK": i["SK"]} for i in lost])

    out = sync_to(settings, cloud_table, moto_endpoint, "--verify")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Nothing to sync" in out.stdout
    assert f"Verified 1 synced games: 0 whole, 1 repaired ({len(lost)} items uploaded)" in out.stdout
    assert await cloud_items(cloud, game_id) == whole, "put back exactly as it was"

    again = sync_to(settings, cloud_table, moto_endpoint, "--verify", "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)["games"]
    assert [(r["game_id"], r["action"], r["status"], r["uploaded"]) for r in report] == [
        (game_id, "verify", "verified", 0)
    ]


async def test_a_changed_cloud_copy_is_reported_by_verify_and_keep_local_puts_it_right(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    local = server.app[STORE]
    game_id = await finished_game(http)
    assert sync_to(settings, cloud_table, moto_endpoint).returncode == 0
    whole = await cloud_items(cloud, game_id)
    player = next(i for i in whole if i["SK"].startswith("PLAYER#"))
    await cloud.put({**player, "nickname": "Changed"})
    await cloud.put({"PK": f"GAME#{game_id}", "SK": "PLAYER#stranger", "nickname": "Stranger"})

    out = sync_to(settings, cloud_table, moto_endpoint, "--verify")
    assert out.returncode == 1
    assert (
        f"failed: {game_id}" in out.stdout and f"--resolve keep-local or keep-cloud {game_id}" in out.stdout
    )
    assert await cloud.get(f"GAME#{game_id}", player["SK"]) == {**player, "nickname": "Changed"}, (
        "verify never overwrites"
    )

    fixed = sync_to(settings, cloud_table, moto_endpoint, "--resolve", "keep-local", game_id)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "1 items uploaded, 1 removed from the cloud" in fixed.stdout
    assert await cloud_items(cloud, game_id) == whole == await expected_copy(local, game_id)
    assert sync_to(settings, cloud_table, moto_endpoint, "--verify").returncode == 0


async def test_a_game_in_conflict_is_resolved_either_way_and_later_syncs_succeed(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    local = server.app[STORE]
    kept_cloud = await finished_game(http)
    kept_local = await finished_game(http, ("Dee", "Eve"))
    for game_id in (kept_cloud, kept_local):
        meta = await local.get(f"GAME#{game_id}", "META")
        await cloud.put({"PK": meta["PK"], "SK": "META", "id": game_id, "title": "Edited in the cloud"})
    sizes = [len(await partition(local, g)) for g in (kept_cloud, kept_local)]
    out = sync_to(settings, cloud_table, moto_endpoint)
    assert out.returncode == 1 and out.stdout.count("does not match") == 2
    # Every item but META went up before the read-back found the conflict: they count.
    assert f"Synced 0 of 2 games ({sum(sizes) + 2 * PAGES - 2} items uploaded)." in out.stdout
    assert sync_to(settings, cloud_table, moto_endpoint).returncode == 1, "a conflict stays until resolved"

    theirs = await cloud_items(cloud, kept_cloud)
    out = sync_to(settings, cloud_table, moto_endpoint, "--resolve", "keep-cloud", kept_cloud)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 items uploaded" in out.stdout
    assert await cloud_items(cloud, kept_cloud) == theirs, "the cloud copy is left as it is"
    assert (await local.get(f"GAME#{kept_cloud}", "META"))["GSI1PK"] == "GAMES#synced"

    out = sync_to(settings, cloud_table, moto_endpoint, "--resolve", "keep-local", kept_local)
    assert out.returncode == 0, out.stdout + out.stderr
    # The first run put up every item but META, which the cloud had: only META differed.
    assert "1 items uploaded, 0 removed from the cloud" in out.stdout
    assert await cloud_items(cloud, kept_local) == await expected_copy(local, kept_local)
    assert (await local.get(f"GAME#{kept_local}", "META"))["GSI1PK"] == "GAMES#synced"

    out = sync_to(settings, cloud_table, moto_endpoint, "--verify")
    assert out.returncode == 0, out.stdout
    assert "Verified 2 synced games: 2 whole, 0 repaired (0 items uploaded)" in out.stdout
    await cloud.put({**theirs[0], "title": "Edited again"})
    out = sync_to(settings, cloud_table, moto_endpoint, "--verify")
    assert out.returncode == 1 and f"cloud copy of game {kept_cloud} changed since it was kept" in out.stdout


async def test_titles_are_printed_with_their_control_characters_escaped(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    local = server.app[STORE]
    game_id = await finished_game(http)
    hostile = "Quiz\x1b]0;owned\x07\x1b[31m night\nSynced 9 of 9 games"
    await local.update(f"GAME#{game_id}", "META", set={"title": hostile})
    dry = sync_to(settings, cloud_table, moto_endpoint, "--dry-run")
    out = sync_to(settings, cloud_table, moto_endpoint)
    for text in (dry.stdout, out.stdout):
        assert "\x1b" not in text and "\x07" not in text, text
        assert r"Quiz\x1b]0;owned\x07\x1b[31m night\nSynced 9 of 9 games" in text
    assert out.returncode == 0 and out.stdout.count("\n") == 2, "one line per game, then the summary"
    assert (await cloud.get(f"GAME#{game_id}", "META"))["title"] == hostile, "stored as it was"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--endpoint-url", "127.0.0.1:8000"], "--endpoint-url must be a URL such as http://"),
        (["--endpoint-url", "http://127.0.0.1:port"], "--endpoint-url must be a URL"),
        (["--table", "my table"], "--table must be a DynamoDB table name"),
        (["--stack", "prod/eu"], "--stack must be a CloudFormation stack name"),
        (["--region", "eu west 1"], "--region must be a region name such as eu-west-1"),
        (["--region", "eu-west-1/"], "--region must be a region name"),
        (["--stack", "prod", "--endpoint-url", "DYNAMODB_ONLY"], "does not answer CloudFormation"),
        (
            ["--table", "tbl", "--resolve", "keep-both", "g1"],
            "'keep-both' is not one of 'keep-local', 'keep-cloud'",
        ),
        (["--table", "tbl", "--resolve", "keep-local"], "--resolve"),
        (["--table", "TABLE", "--resolve", "keep-local", "gnope"], "no game gnope on this appliance"),
        (["--table", "TABLE", "--resolve", "keep-local", "g\x1b[2J"], r"no game g\x1b[2J on this appliance"),
        (["--table", "tbl", "--verify", "--dry-run"], "--dry-run contacts nothing"),
        (["--table", "tbl", "--verify", "--resolve", "keep-local", "g1"], "--resolve settles one game"),
        (["--table", "tbl", "--retention-days", "a week"], "'a week' is not a valid integer"),
        (["--table", "tbl", "--cloud-retention-days", "0"], "--cloud-retention-days"),
    ],
)
async def test_every_bad_option_is_one_clear_line_and_a_non_zero_exit(
    args, expected, server, http, settings, cloud_table, moto_endpoint, aws_env
):
    game_id = await finished_game(http)
    proxy = FaultProxy(moto_endpoint)
    substitutes = {"DYNAMODB_ONLY": proxy.url, "TABLE": cloud_table}
    args = [substitutes.get(a, a) for a in args]
    if "--endpoint-url" not in args:
        args = ["--endpoint-url", moto_endpoint, *args]
    try:
        out = run_sync(settings, *args)
    finally:
        proxy.stop()
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], out.stderr
    assert "\x1b" not in out.stderr
    meta = await server.app[STORE].get(f"GAME#{game_id}", "META")
    assert meta["GSI1PK"] == "GAMES#finished"


async def test_a_copy_uploaded_before_the_cloud_copy_was_trimmed_is_found_by_verify_and_replaced(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    """Earlier versions uploaded the partition as it was: with the secret, without expiry, not synced."""
    local = server.app[STORE]
    game_id = await finished_game(http)
    as_played = await partition(local, game_id)
    assert sync_to(settings, cloud_table, moto_endpoint).returncode == 0
    for item in await partition(cloud, game_id):
        await cloud.delete(item["PK"], item["SK"])
    for item in as_played:
        await cloud.put(item)
    await local.update(
        f"GAME#{game_id}", "META", remove=("sync_at", "cloud_ttl")
    )  # as those versions left it

    out = sync_to(settings, cloud_table, moto_endpoint, "--verify")
    assert out.returncode == 1 and f"failed: {game_id}" in out.stdout
    out = sync_to(settings, cloud_table, moto_endpoint, "--resolve", "keep-local", game_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(as_played)} items uploaded, 0 removed" in out.stdout
    in_cloud = await cloud_items(cloud, game_id)
    assert not any(a in i for i in in_cloud for a in HOME_ONLY)
    synced_at = (await local.get(f"GAME#{game_id}", "META"))["synced_at"]
    assert {i[TTL] for i in in_cloud} == {synced_at // 1000 + lifecycle.CLOUD_RETENTION_DAYS * 86400}
    assert sync_to(settings, cloud_table, moto_endpoint, "--verify").returncode == 0


async def test_verify_leaves_a_game_past_its_cloud_retention_alone(
    server, http, settings, cloud, cloud_table, moto_endpoint
):
    local = server.app[STORE]
    game_id = await finished_game(http)
    assert sync_to(settings, cloud_table, moto_endpoint).returncode == 0
    past = int(time.time()) - 60
    await local.update(f"GAME#{game_id}", "META", set={"cloud_ttl": past})  # as if 90 days had gone by
    for item in await partition(cloud, game_id):
        await cloud.put({**item, TTL: past})  # expired: reads no longer see it, as in DynamoDB
    out = sync_to(settings, cloud_table, moto_endpoint, "--verify")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 repaired (0 items uploaded), 1 expired from the cloud" in out.stdout
    assert await partition(cloud, game_id) == [], "nothing put back"
