"""What the people who run Engagements see: log lines that follow a command from the socket to the
store and never hold a secret, the appliance's `/metrics` counting what a game did, `/readyz` telling
a store that takes no write, spans when tracing is on, and the Lambda functions' embedded metrics under
the appliance's names. Both runtimes play the same game: the appliance, and the cloud stack on the
local gateway (`cloud_local`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import logging
import os
import resource
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlparse

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cloud.metrics import emf
from engagements import items
from engagements.store.base import Store
from engagements.store.dynamodb import DynamoStore
from engagements.telemetry.context import bound
from engagements.telemetry.logs import REDACTED, log_handler, restore_levels, set_levels
from engagements.telemetry.metrics import CATALOGUE, COMMANDS
from sync.target import Target
from tests.conftest import ADMIN, ADMIN_SECRET, Table, create_game
from tests.faults import TcpProxy
from tests.test_sync import finished_game
from web.app import create_app
from web.keys import STORE
from web.metrics import ApplianceTelemetry

NICKS = ("Ann", "Bob", "Cy")
# What `play` does, by command type and outcome: the figures both runtimes must count.
PLAYED = {
    ("join", "ok"): 3,
    ("start", "ok"): 1,
    ("answer", "ok"): 3,
    ("vote", "ok"): 3,
    ("next", "ok"): 1,
    ("next", "forbidden"): 1,
    ("other", "bad_json"): 1,
}


@contextlib.contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """Every log line of this process as JSON, through the runtimes' own handler and levels."""
    out = io.StringIO()
    handler = log_handler("json", out)
    root = logging.getLogger()
    root.addHandler(handler)
    before = set_levels(level)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        restore_levels(before)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def play(table: Table) -> dict[str, list[str]]:
    """A whole one-round game: three join, answer and vote, one refusal of each kind; the command ids by
    type."""
    ids: dict[str, list[str]] = {}

    async def ok(client: Any, type_: str, **fields: Any) -> dict[str, Any]:
        ack = await client.ok(type_, **fields)
        ids.setdefault(type_, []).append(ack["id"])
        return ack

    for nick in NICKS:
        await table.join(nick)
    await ok(table.host, "start")
    refused = await table.players["Bob"].command("next", round=0)
    assert refused["code"] == "forbidden", "a phone cannot do the host's job"
    await table.players["Cy"].ws.send_str("{not json")
    assert (await table.players["Cy"].expect("error"))["code"] == "bad_json"
    options = {
        nick: (await ok(table.players[nick], "answer", round=0, text=f"{nick} says hi"))["option"]
        for nick in NICKS
    }
    await table.host.phase("voting")
    for voter, author in (("Ann", "Bob"), ("Bob", "Cy"), ("Cy", "Bob")):
        await ok(table.players[voter], "vote", round=0, option=options[author])
    await table.host.phase("results")
    await ok(table.host, "next", round=0)
    for client in (table.host, *table.players.values()):
        await client.phase("finished")
    return ids


async def game_items(store: Store, game_id: str) -> list[dict[str, Any]]:
    return await store.query_all(items.game_pk(game_id))


def secrets_of(table: Table, stored: list[dict[str, Any]]) -> set[str]:
    """Everything of the game nobody may read in a log: the admin secret, the tokens (and their secret
    halves), the game's secret and the token hashes."""
    tokens = [table.created["host_token"], *table.tokens.values()]
    found = {ADMIN_SECRET, *tokens, *(t.partition(".")[2] for t in tokens)}
    for item in stored:
        found |= {item[k] for k in ("secret", "host_token_hash", "token_hash") if item.get(k)}
    assert len(found) >= 2 * len(tokens) + 3
    return found


@pytest.fixture(params=["appliance", "cloud-local"])
def runtime(request) -> tuple[str, Any, Any]:
    """(name, a game maker on that runtime, a context manager giving its store)."""
    if request.param == "appliance":
        server = request.getfixturevalue("server")
        http = request.getfixturevalue("http")

        @contextlib.asynccontextmanager
        async def local() -> AsyncIterator[Store]:
            yield server.app[STORE]

        return "appliance", lambda **kw: create_game(http, **kw), local
    http, socket_url = request.getfixturevalue("cloud_local")
    table, endpoint = request.getfixturevalue("cloud_table"), request.getfixturevalue("moto_endpoint")

    @contextlib.asynccontextmanager
    async def cloud() -> AsyncIterator[Store]:
        store = await DynamoStore.open(table, endpoint_url=endpoint)
        try:
            yield store
        finally:
            await store.close()

    return "cloud-local", lambda **kw: create_game(http, socket_url=socket_url, **kw), cloud


SOCKET_LOGGER = {"appliance": "web.dispatch", "cloud-local": "cloud.sockets"}
STORE_LOGGER = {"appliance": "engagements.store.sqlite", "cloud-local": "engagements.store.dynamodb"}


async def test_a_commands_log_lines_carry_its_game_and_command_ids_from_the_socket_to_the_store(runtime):
    name, make, _ = runtime
    with captured_logs() as out:
        table = await make(prompts=["A bad name for a cat"])
        ids = await play(table)
        await table.close()
    logged = lines(out)
    for cmd_id in ids["answer"] + ids["vote"]:
        about = [line for line in logged if line.get("command_id") == cmd_id]
        loggers = {line["logger"] for line in about}
        assert {SOCKET_LOGGER[name], "engagements.commands", STORE_LOGGER[name]} <= loggers, about
        assert {line.get("game_id") for line in about} == {table.game_id}, about
        said = [line["message"] for line in about if line["logger"] == SOCKET_LOGGER[name]]
        assert said[0] == "command received" and said[-1] == "command acked"
    phases = [line for line in logged if line["message"].startswith("phase changed")]
    assert [p["status"] for p in phases][-1] == "finished" and all(p["level"] == "INFO" for p in phases)
    assert {p["game_id"] for p in phases} == {table.game_id}
    created = [line for line in logged if line["message"] == "game created"]
    assert [(c["game_id"], c["level"]) for c in created] == [(table.game_id, "INFO")]


async def test_no_log_line_of_a_whole_game_holds_a_token_or_a_secret(runtime):
    _, make, opened = runtime
    with captured_logs() as out:
        table = await make(prompts=["A bad name for a cat"])
        await play(table)
        await table.close()
    text = out.getvalue()
    assert len(text.splitlines()) > 40, "DEBUG: a line per command at least"
    async with opened() as store:
        stored = await game_items(store, table.game_id)
    leaked = {s for s in secrets_of(table, stored) if s in text}
    assert not leaked


def test_a_field_named_for_a_secret_is_written_redacted_and_ids_join_every_line():
    with captured_logs() as out, bound(game_id="g1", command_id="c7"):
        logging.getLogger("web.test").info("hello", extra={"player_token": "p1.s3cr3t", "authorization": "x"})
    (line,) = lines(out)
    assert line["player_token"] == line["authorization"] == REDACTED and "s3cr3t" not in out.getvalue()
    assert (line["game_id"], line["command_id"], line["level"], line["logger"]) == (
        "g1",
        "c7",
        "INFO",
        "web.test",
    )


def test_debug_keeps_third_party_loggers_at_warning():
    """`--log-level debug` is ours: botocore's debug lines would dump whole items, token hashes and all."""
    with captured_logs() as out:
        logging.getLogger("botocore.endpoint").debug("Making request with body %s", "token_hash")
        logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")
        logging.getLogger("botocore.retries").warning("retrying")
        logging.getLogger("engagements.x").debug("ours")
    assert [line["message"] for line in lines(out)] == ["retrying", "ours"]


# -- the appliance's /metrics -----------------------------------------------------------------------


async def scrape(http: aiohttp.ClientSession) -> dict[str, Any]:
    """The exposition, parsed by prometheus-client's own parser: {(sample name, labels): value}."""
    async with http.get("/metrics", headers=ADMIN) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(figures: dict[str, Any], name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_after_a_game_count_what_it_did(http):
    async with http.get("/metrics") as r:
        assert r.status == 401, "the venue's Wi-Fi is open: the admin secret is needed"
    table = await create_game(http, prompts=["A bad name for a cat"])
    await play(table)
    figures = await scrape(http)
    commands = {
        (dict(labels)["type"], dict(labels)["outcome"]): value
        for (name, labels), value in figures.items()
        if name == "engagements_commands_total"
    }
    assert commands == PLAYED
    acked = Counter()
    for (type_, outcome), n in PLAYED.items():
        if outcome == "ok":
            acked[type_] += n
    for type_, n in acked.items():
        assert sample(figures, "engagements_ack_latency_seconds_count", type=type_) == n
    assert sample(figures, "engagements_games_created_total") == 1
    assert sample(figures, "engagements_games_finished_total") == 1
    assert sample(figures, "engagements_connections_opened_total") == 4, "the host and three phones"
    assert sample(figures, "engagements_connections", audience="board") == 1
    assert sample(figures, "engagements_connections", audience="phones") == 3
    assert sample(figures, "engagements_games", status="finished") == 1
    assert sample(figures, "engagements_players", state="connected") == 3
    assert sample(figures, "engagements_store_write_seconds_count") >= sum(acked.values())
    assert sample(figures, "engagements_http_requests_total", route="join_game", status="2xx") == 3
    # Every event and `you` message a view was sent went through one fan-out: their sum is what the
    # four sockets received.
    received = 0
    for client in (table.host, *table.players.values()):
        with contextlib.suppress(TimeoutError):
            while True:
                await client.receive(timeout=0.5)
        received += sum(
            1 for m in client.seen if ("seq" in m and m["type"] != "snapshot") or m["type"] == "you"
        )
    assert sample(figures, "engagements_fanout_recipients_sum") == received
    assert sample(figures, "engagements_fanout_recipients_count") == sample(
        figures, "engagements_fanout_seconds_count"
    )
    assert sample(figures, "process_open_fds") > 0, "the process's own figures come along"
    await table.close()
    for _ in range(50):
        if sample(await scrape(http), "engagements_connections_closed_total") == 4:
            break
        await asyncio.sleep(0.1)
    after = await scrape(http)
    assert sample(after, "engagements_connections_closed_total") == 4
    assert sample(after, "engagements_connections", audience="phones") == 0


async def test_metrics_count_the_background_syncs_results(
    aiohttp_server, settings, cloud_table, moto_endpoint
):
    proxy = TcpProxy(urlparse(moto_endpoint).port)
    port = await proxy.start()
    target = Target(table=cloud_table, endpoint_url=f"http://127.0.0.1:{port}")
    app = create_app(dataclasses.replace(settings, auto_sync=True, cloud=target, sync_interval=0.2))
    server = await aiohttp_server(app, host="127.0.0.1", port=settings.port)
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as http:
        proxy.cut()  # offline: the runs fail
        await finished_game(http)
        for _ in range(100):
            if sample(await scrape(http), "engagements_sync_runs_total", result="failed") >= 1:
                break
            await asyncio.sleep(0.1)
        figures = await scrape(http)
        assert sample(figures, "engagements_sync_runs_total", result="failed") >= 1
        assert sample(figures, "engagements_sync_games_total", result="synced") == 0
        await proxy.start(port)
        for _ in range(100):
            figures = await scrape(http)
            if sample(figures, "engagements_sync_games_total", result="synced") == 1:
                break
            await asyncio.sleep(0.1)
        assert sample(figures, "engagements_sync_games_total", result="synced") == 1
        assert sample(figures, "engagements_sync_runs_total", result="ok") >= 1
    proxy.cut()


# -- /healthz and /readyz ---------------------------------------------------------------------------


async def get_json(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        return r.status, await r.json()


async def readiness(url: str, want: bool) -> tuple[int, dict[str, Any]]:
    """/readyz once it says `want` (a probe's result is kept a second), or its last answer."""
    for _ in range(50):
        status, body = await get_json(f"{url}/readyz")
        if body["ready"] is want:
            break
        await asyncio.sleep(0.2)
    return status, body


@pytest.mark.xdist_group("mdns")  # announces on loopback (see tests/test_mdns.py)
async def test_readyz_is_false_while_the_store_cannot_write_and_true_again_after(server_process):
    name = f"Engagements ready {uuid.uuid4().hex[:8]}"
    server = server_process("--mdns-interfaces", "127.0.0.1", "--name", name)
    await server.start()
    status, body = await readiness(server.url, True)
    assert status == 200 and body["checks"]["mdns"] == {"ok": True, "detail": "announced"}
    assert body["checks"]["store"]["ok"]
    # As a full disk would: the server may write no byte more to any file (RLIMIT_FSIZE 0; Python
    # ignores SIGXFSZ, so the write fails with EFBIG).
    assert server.proc is not None
    limits = resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (0, limits[1]))
    try:
        status, body = await readiness(server.url, False)
        assert status == 503 and not body["checks"]["store"]["ok"], body
        assert body["checks"]["mdns"]["ok"], "only the store failed"
        alive, _ = await get_json(f"{server.url}/healthz")
        assert alive == 200, "alive all the same: a restart would not free the disk"
    finally:
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, limits)
    status, body = await readiness(server.url, True)
    assert status == 200, body
    server.stop()


async def test_readyz_without_mdns_needs_only_the_store(http):
    async with http.get("/readyz") as r:
        body = await r.json()
    assert r.status == 200 and body["checks"]["mdns"] == {"ok": True, "detail": "off (--no-mdns)"}


# -- tracing ----------------------------------------------------------------------------------------


async def test_with_tracing_on_a_command_is_a_span_and_its_store_write_a_child(server_process):
    server = server_process("--no-mdns", "--trace", "console", "--log-format", "json")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=["One"])
        await table.join("Ann")
        start = await table.host.ok("start")
        await table.close()
    printed = server.stop()
    spans = [
        s
        for s in (json.loads(line) for line in printed.splitlines() if line.startswith("{"))
        if "context" in s
    ]
    commands = [s for s in spans if s["name"] == "command" and s["attributes"]["command_id"] == start["id"]]
    assert len(commands) == 1, printed[-2000:]
    command = commands[0]
    assert command["attributes"]["game_id"] == table.game_id
    writes = [
        s for s in spans if s["name"] == "store.write" and s["parent_id"] == command["context"]["span_id"]
    ]
    assert writes and all(w["context"]["trace_id"] == command["context"]["trace_id"] for w in writes)
    assert any(s["name"] == "http join_game" for s in spans)


# -- the Lambda functions: embedded metrics and their logging --------------------------------------


async def test_a_cloud_games_embedded_metrics_parse_and_carry_the_appliances_names(cloud_local):
    http, socket_url = cloud_local
    out = io.StringIO()
    handler = logging.StreamHandler(out)  # what a Lambda container writes to stdout (cloud.invocations)
    emf.addHandler(handler)
    emf.setLevel(logging.INFO)
    try:
        table = await create_game(http, socket_url=socket_url, prompts=["A bad name for a cat"])
        await play(table)
        await table.close()
        await asyncio.sleep(0.5)  # the last invocations write theirs as they end
    finally:
        emf.removeHandler(handler)
        emf.setLevel(logging.NOTSET)
    emitted = [json.loads(line) for line in out.getvalue().splitlines()]
    assert emitted
    names = set()
    commands: Counter[tuple[str, str]] = Counter()
    for line in emitted:
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert isinstance(line["_aws"]["Timestamp"], int) and directive["Namespace"] == "Engagements"
        for dimensions in directive["Dimensions"]:
            assert dimensions[0] == "environment" and all(isinstance(line[d], str) for d in dimensions)
        for metric in directive["Metrics"]:
            value = line[metric["Name"]]
            assert isinstance(value, int | float) or (isinstance(value, list) and 0 < len(value) <= 100)
            names.add(metric["Name"])
        if COMMANDS.name in line:
            commands[(line["type"], line["outcome"])] += line[COMMANDS.name]
    assert commands == PLAYED
    appliance = {
        family.name for family in text_string_to_metric_families(ApplianceTelemetry().exposition().decode())
    }
    catalogued = {m.name for m in CATALOGUE if m.cloud}
    assert names <= catalogued and names <= appliance, "the same names as /metrics'"
    assert {
        "engagements_commands",
        "engagements_ack_latency_seconds",
        "engagements_fanout_recipients",
        "engagements_store_write_seconds",
        "engagements_connections_opened",
        "engagements_games_created",
        "engagements_games_finished",
    } <= names


def test_in_a_lambda_container_log_lines_are_json_on_stdout_with_the_invocations_ids():
    """As Lambda's runtime runs a handler: its own handler on the root logger first, which ours replaces."""
    program = textwrap.dedent(
        """
        import logging, types
        logging.basicConfig(format="RUNTIME %(message)s")
        from cloud.invocations import _logging, ids
        from engagements.telemetry.context import bound
        _logging()
        event = {"requestContext": {"requestId": "api-req-1", "connectionId": "conn-1"}}
        with bound(**ids(event, types.SimpleNamespace(aws_request_id="lambda-req-1"))):
            logging.getLogger("cloud.sockets").info("hello", extra={"host_token": "h.secret"})
            logging.getLogger("cloud.sockets").debug("not at INFO")
        """
    )
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_LAMBDA_FUNCTION_NAME": "engagements-dev-default",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    (line,) = [json.loads(text) for text in result.stdout.splitlines()]
    assert "RUNTIME" not in result.stdout + result.stderr
    assert line["message"] == "hello" and line["function"] == "engagements-dev-default"
    assert (line["request_id"], line["lambda_request_id"], line["connection_id"]) == (
        "api-req-1",
        "lambda-req-1",
        "conn-1",
    )
    assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert line["host_token"] == REDACTED
