"""cloud-local, the local API Gateway and Lambda (tests/cloudlocal/): real sockets, real boto3, moto server.

The gateway runs the fixture templates and handlers of tests/cloudlocal/fixtures/, shaped as the contract
says the real deploy/realtime.yaml and deploy/http.yaml are. Limits are set small where a test needs one to
bite; nothing here asserts how long something took.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import struct
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
    SqsModel,
)
from botocore.config import Config
from cfnlint.api import ManualArgs, lint

from engagements.store.schema import schema_problems
from tests.cloudlocal.__main__ import local_parameters, parser
from tests.cloudlocal.connections import Limits
from tests.cloudlocal.fixtures.handlers import RECORDER
from tests.cloudlocal.gateway import Gateway, Settings
from tests.cloudlocal.http_api import match
from tests.cloudlocal.intrinsics import TemplateError
from tests.cloudlocal.lambdas import shared_environment
from tests.cloudlocal.stack import deploy_base
from tests.cloudlocal.template import Function, Locale, read
from tests.cloudlocal.websocket import select_route

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "cloudlocal" / "fixtures"
TEMPLATES = [FIXTURES / "realtime.yaml", FIXTURES / "http.yaml"]
BASE_STACK = "engagements-dev"  # the fixture templates' BaseStack default
NO_RETRIES = Config(retries={"total_max_attempts": 1})

StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def start_gateway(moto_endpoint, cloud_table, unused_tcp_port_factory) -> AsyncIterator[StartGateway]:
    """Starts the gateway on the fixture templates, with the test's table as the base stack's export."""
    gateways: list[Gateway] = []
    RECORDER.clear()

    async def start(**options: Any) -> Gateway:
        settings = Settings(
            templates=TEMPLATES,
            aws_endpoint=moto_endpoint,
            port=unused_tcp_port_factory(),
            http_port=unused_tcp_port_factory(),
            exports={f"{BASE_STACK}-TableName": cloud_table},
            **options,
        )
        gateway = Gateway(settings)
        await gateway.start()
        gateways.append(gateway)
        return gateway

    yield start
    for gateway in gateways:
        await gateway.close()


@pytest.fixture
async def gateway(start_gateway) -> Gateway:
    return await start_gateway()


def socket_url(gateway: Gateway, game: str) -> str:
    return f"{gateway.websocket_url}dev?game={game}"


async def wait_for(predicate: Callable[[], Any], timeout: float = 10) -> Any:
    """Polls until `predicate()` is truthy: for effects of asynchronous invocations."""
    async with asyncio.timeout(timeout):
        while not (value := predicate()):
            await asyncio.sleep(0.01)
    return value


def management(gateway: Gateway, **config: Any) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=os.environ["WEBSOCKET_ENDPOINT"],
        config=Config(**config) if config else None,
    )


# -- the templates, read ---------------------------------------------------------------------------


def test_routes_functions_and_environment_come_from_the_templates(moto_endpoint) -> None:
    locale = Locale(
        "eu-west-1", moto_endpoint, {"WEBSOCKET": "http://127.0.0.1:1", "HTTP": "http://127.0.0.1:2"}
    )
    wiring = read(TEMPLATES, locale, exports={f"{BASE_STACK}-TableName": "the-table"})
    ws, http = wiring.api("WEBSOCKET"), wiring.api("HTTP")
    assert ws is not None and http is not None
    assert ws.routes == {
        "$connect": "engagements-dev-connect",
        "$default": "engagements-dev-default",
        "$disconnect": "engagements-dev-disconnect",
    }
    assert ws.stage == "dev" and ws.route_selection == "$request.body.action"
    assert set(http.routes) == {
        "POST /api/games",
        "GET /api/packs/{name}",
        "GET /api/games/{id}/qr.svg",
        "ANY /files/{path+}",
    }
    assert set(http.routes.values()) == {"engagements-dev-http"}
    connect = wiring.functions["engagements-dev-connect"]
    assert connect.handler == "tests.cloudlocal.fixtures.handlers.connect"
    assert connect.timeout == 10
    assert connect.environment == {
        "TABLE_NAME": "the-table",
        "WEBSOCKET_ENDPOINT": "http://127.0.0.1:1/dev",
        "FANOUT_FUNCTION": "engagements-dev-fanout",
        "DEADLINE_QUEUE_URL": f"{moto_endpoint}/123456789012/engagements-dev-deadlines",
        "ENVIRONMENT": "dev",
        "POWERTOOLS_SERVICE_NAME": "engagements",
    }
    [source] = wiring.event_sources
    assert source.function == "engagements-dev-deadline"
    assert source.queue_arn == "arn:aws:sqs:eu-west-1:123456789012:engagements-dev-deadlines"
    assert source.report_item_failures


def test_the_real_templates_wire_the_contracts_handlers(moto_endpoint) -> None:
    """Pointing the gateway at deploy/ takes nothing but the paths: the contract's handlers and routes."""
    locale = Locale(
        "us-east-1", moto_endpoint, {"WEBSOCKET": "http://127.0.0.1:1", "HTTP": "http://127.0.0.1:2"}
    )
    exports = {f"{BASE_STACK}-TableName": "t", f"{BASE_STACK}-TableArn": "arn:aws:dynamodb:::table/t"}
    templates = [ROOT / "deploy" / "realtime.yaml", ROOT / "deploy" / "http.yaml"]
    wiring = read(templates, locale, parameters=local_parameters(BASE_STACK), exports=exports)
    ws, http = wiring.api("WEBSOCKET"), wiring.api("HTTP")
    assert ws is not None and http is not None
    handlers = {key: wiring.functions[name].handler for key, name in ws.routes.items()}
    assert handlers == {
        "$connect": "cloud.handlers.websocket.connect",
        "$default": "cloud.handlers.websocket.default",
        "$disconnect": "cloud.handlers.websocket.disconnect",
    }
    assert {wiring.functions[name].handler for name in http.routes.values()} == {
        "cloud.handlers.http.handler"
    }
    assert {"POST /api/games", "POST /api/join", "GET /api/packs"} <= set(http.routes)
    [source] = wiring.event_sources
    assert wiring.functions[source.function].handler == "cloud.handlers.deadline.handler"
    environment = shared_environment(wiring.functions.values(), {})
    assert environment["WEBSOCKET_ENDPOINT"].startswith("http://127.0.0.1:1/")
    assert wiring.functions[environment["FANOUT_FUNCTION"]].handler == "cloud.handlers.fanout.handler"


def test_the_fixture_templates_are_valid_cloudformation() -> None:
    """So what the gateway is tested on could be deployed: the fixtures are no easier than the real thing."""
    for template in TEMPLATES:
        assert [str(m) for m in lint(template.read_text(), config=ManualArgs(regions=["us-east-1"]))] == []


def test_a_missing_export_is_named(moto_endpoint) -> None:
    locale = Locale(
        "us-east-1", moto_endpoint, {"WEBSOCKET": "http://127.0.0.1:1", "HTTP": "http://127.0.0.1:2"}
    )
    with pytest.raises(TemplateError, match="engagements-dev-TableName"):
        read(TEMPLATES, locale)


def test_the_base_template_deploys_the_table_the_store_expects(moto_endpoint, aws_env) -> None:
    locale = Locale("us-east-1", moto_endpoint, {})
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint)
    if "engagements-dev" in dynamodb.list_tables()["TableNames"]:  # another test's, on the shared server
        dynamodb.delete_table(TableName="engagements-dev")
    exports = deploy_base(
        ROOT / "deploy" / "base.yaml", stack_name="cl-base", dynamodb=dynamodb, locale=locale
    )
    try:
        assert exports == {
            "cl-base-TableName": "engagements-dev",
            "cl-base-TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/engagements-dev",
        }
        assert schema_problems(dynamodb.describe_table(TableName="engagements-dev")["Table"]) == []
        ttl = dynamodb.describe_time_to_live(TableName="engagements-dev")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "ttl"
    finally:  # the moto server is shared by the session: other tests deploy the dev stack's table too
        dynamodb.delete_table(TableName="engagements-dev")


# -- WebSocket --------------------------------------------------------------------------------------


async def test_echo_round_trip_and_events_shaped_like_api_gateways(gateway: Gateway) -> None:
    phone = {"User-Agent": "phone/1"}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(socket_url(gateway, "g1"), headers=phone) as ws,
    ):
        await ws.send_str(json.dumps({"action": "echo", "text": "hello"}))
        reply = await ws.receive(timeout=5)
        assert json.loads(reply.data) == {"action": "echo", "text": "hello"}
        await ws.send_bytes(b'{"action": "none"}')
        await wait_for(lambda: len(RECORDER.get("default")) == 2)
    await wait_for(lambda: RECORDER.get("disconnect"))

    [connect] = RECORDER.get("connect")
    text, binary = RECORDER.get("default")
    [disconnect] = RECORDER.get("disconnect")
    APIGatewayWebSocketConnectEventModel.model_validate(connect)
    APIGatewayWebSocketMessageEventModel.model_validate(text)
    APIGatewayWebSocketMessageEventModel.model_validate(binary)
    APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect)
    connection_id = connect["requestContext"]["connectionId"]
    assert {e["requestContext"]["connectionId"] for e in (text, binary, disconnect)} == {connection_id}
    assert connect["queryStringParameters"] == {"game": "g1"}
    assert connect["requestContext"]["identity"]["userAgent"] == "phone/1"
    assert text["requestContext"]["routeKey"] == "$default"
    assert (text["body"], text["isBase64Encoded"]) == ('{"action": "echo", "text": "hello"}', False)
    assert binary["isBase64Encoded"] and base64.b64decode(binary["body"]) == b'{"action": "none"}'
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1000
    [context] = RECORDER.get("context")
    assert context["function_name"] == "engagements-dev-connect"
    assert context["invoked_function_arn"].endswith(":function:engagements-dev-connect")
    assert context["memory_limit_in_mb"] == 128 and 0 < context["remaining_ms"] <= 10_000
    assert context["aws_request_id"] != connect["requestContext"]["requestId"]
    assert gateway.state.runtime.counts.by_function == {
        "engagements-dev-connect": 1,
        "engagements-dev-default": 2,
        "engagements-dev-disconnect": 1,
    }


async def test_connect_refused_by_the_handler_refuses_the_socket(gateway: Gateway) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(socket_url(gateway, "refused"))
    assert refused.value.status == 403
    assert RECORDER.get("disconnect") == []


async def test_a_failing_handler_gets_api_gateways_error_message(gateway: Gateway) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(gateway, "g1")) as ws:
        await ws.send_str(json.dumps({"action": "fail"}))
        reply = json.loads((await ws.receive(timeout=5)).data)
    assert reply["message"] == "Internal server error"
    assert reply["connectionId"] == RECORDER.get("connect")[0]["requestContext"]["connectionId"]


# -- the management API, through real boto3 -----------------------------------------------------------


async def test_a_gone_connection_raises_the_real_gone_exception(gateway: Gateway) -> None:
    client = management(gateway)
    with pytest.raises(client.exceptions.GoneException):
        await asyncio.to_thread(client.post_to_connection, ConnectionId="L0SM9cOFvHcCIhw=", Data=b"x")

    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(socket_url(gateway, "g1"), headers={"User-Agent": "phone/2"})
        connection_id = RECORDER.get("connect")[0]["requestContext"]["connectionId"]
        info = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
        assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "phone/2"}
        assert info["ConnectedAt"] <= info["LastActiveAt"]
        await ws.close()
    await wait_for(lambda: RECORDER.get("disconnect"))
    for call in (client.post_to_connection, client.get_connection, client.delete_connection):
        arguments = {"Data": b"x"} if call == client.post_to_connection else {}
        with pytest.raises(client.exceptions.GoneException):
            await asyncio.to_thread(call, ConnectionId=connection_id, **arguments)


async def test_delete_connection_closes_the_socket_and_runs_disconnect(gateway: Gateway) -> None:
    client = management(gateway)
    async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(gateway, "g1")) as ws:
        connection_id = RECORDER.get("connect")[0]["requestContext"]["connectionId"]
        await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
        closed = await ws.receive(timeout=5)
        assert closed.type == aiohttp.WSMsgType.CLOSE
    [disconnect] = await wait_for(lambda: RECORDER.get("disconnect"))
    assert disconnect["requestContext"]["disconnectReason"] == "Connection deleted"


async def test_throttling_on_demand_raises_limit_exceeded_and_botocore_retries_it(gateway: Gateway) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(gateway, "g1")) as ws:
        connection_id = RECORDER.get("connect")[0]["requestContext"]["connectionId"]
        once = management(gateway, retries={"total_max_attempts": 1})
        gateway.state.throttle.fail_next(1)
        with pytest.raises(once.exceptions.LimitExceededException):
            await asyncio.to_thread(once.post_to_connection, ConnectionId=connection_id, Data=b"first")
        retrying = management(gateway, retries={"mode": "standard", "max_attempts": 3})
        gateway.state.throttle.fail_next(2)
        await asyncio.to_thread(retrying.post_to_connection, ConnectionId=connection_id, Data=b"second")
        assert (await ws.receive(timeout=5)).data == "second"
    assert gateway.state.throttle.refused == 3


async def test_a_rate_limit_refuses_calls_beyond_it(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(post_rate=1)  # one call a second: ten calls in a row meet it at once
    client = management(gateway, retries={"total_max_attempts": 1})
    outcomes = []
    for _ in range(10):
        try:
            await asyncio.to_thread(client.post_to_connection, ConnectionId="nobody", Data=b"x")
        except client.exceptions.LimitExceededException:
            outcomes.append("throttled")
        except client.exceptions.GoneException:
            outcomes.append("gone")
    assert outcomes[0] == "gone" and "throttled" in outcomes
    assert gateway.state.throttle.refused == outcomes.count("throttled")


async def test_a_post_over_128_kb_is_refused(gateway: Gateway) -> None:
    client = management(gateway)
    with pytest.raises(client.exceptions.PayloadTooLargeException):
        await asyncio.to_thread(client.post_to_connection, ConnectionId="any", Data=b"x" * (128 * 1024 + 1))


# -- API Gateway's limits on the socket --------------------------------------------------------------------


class RawSocket:
    """A WebSocket client writing its frames by hand, to send a message in fragments (aiohttp's cannot)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, gateway: Gateway, game: str) -> RawSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.settings.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /dev?game={game} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def send(self, data: bytes, fragment: int) -> None:
        """A text message in frames of `fragment` bytes (masked with a zero key, which RFC 6455 allows)."""
        chunks = [data[i : i + fragment] for i in range(0, len(data), fragment)]
        for i, chunk in enumerate(chunks):
            first = (0x80 if i == len(chunks) - 1 else 0) | (0x1 if i == 0 else 0x0)
            if len(chunk) < 126:
                header = struct.pack("!BB", first, 0x80 | len(chunk))
            elif len(chunk) < 65536:
                header = struct.pack("!BBH", first, 0x80 | 126, len(chunk))
            else:
                header = struct.pack("!BBQ", first, 0x80 | 127, len(chunk))
            self.writer.write(header + b"\0\0\0\0" + chunk)
        await self.writer.drain()

    async def receive(self) -> tuple[int, bytes]:
        """The next frame from the server: its opcode and payload."""
        first, second = await self.reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def test_a_frame_over_32_kb_closes_with_1009(gateway: Gateway) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(gateway, "g1")) as ws:
        await ws.send_str(json.dumps({"action": "echo", "text": "x" * 32 * 1024}))
        closed = await ws.receive(timeout=5)
    assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1009
    [disconnect] = await wait_for(lambda: RECORDER.get("disconnect"))
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1009
    assert RECORDER.get("default") == []


async def test_a_message_of_128_kb_in_32_kb_frames_passes_and_a_larger_one_closes_with_1009(
    gateway: Gateway,
) -> None:
    message = json.dumps({"action": "echo", "text": "y" * (128 * 1024 - 40)}).encode()
    assert 127 * 1024 < len(message) <= 128 * 1024
    raw = await RawSocket.open(gateway, "g1")
    await raw.send(message, 32 * 1024)
    assert await raw.receive() == (0x1, message)
    await raw.send(message + b" " * 1024, 32 * 1024)
    opcode, payload = await raw.receive()
    assert opcode == 0x8 and struct.unpack("!H", payload[:2]) == (1009,)
    raw.close()
    [echoed] = RECORDER.get("default")
    assert echoed["body"] == message.decode()


async def test_an_idle_connection_is_closed_and_disconnect_says_why(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(limits=Limits(idle_seconds=0.2))
    async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(gateway, "g1")) as ws:
        closed = await ws.receive(timeout=10)
    assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1001
    [disconnect] = await wait_for(lambda: RECORDER.get("disconnect"))
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1001
    assert "idle" in disconnect["requestContext"]["disconnectReason"]


async def test_a_busy_connection_is_still_closed_at_its_maximum_age(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(limits=Limits(idle_seconds=60, max_age_seconds=0.5))
    async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(gateway, "g1")) as ws:
        while True:  # a message at a time, each answered: never idle
            await ws.send_str(json.dumps({"action": "echo"}))
            reply = await ws.receive(timeout=10)
            if reply.type != aiohttp.WSMsgType.TEXT:
                break
    assert reply.type == aiohttp.WSMsgType.CLOSE and reply.data == 1001
    [disconnect] = await wait_for(lambda: RECORDER.get("disconnect"))
    assert disconnect["requestContext"]["disconnectReason"] == "Connection max duration reached"
    assert len(RECORDER.get("default")) >= 2


# -- Lambda: invocations by boto3, deadlines through SQS ---------------------------------------------


async def test_invoke_synchronously_asynchronously_and_errors(gateway: Gateway) -> None:
    client = boto3.client("lambda", endpoint_url=gateway.settings.url, config=NO_RETRIES)
    empty = {"game_id": "nobody-here", "frames": ["x"]}
    reply = await asyncio.to_thread(
        client.invoke, FunctionName="engagements-dev-fanout", Payload=json.dumps(empty)
    )
    assert reply["StatusCode"] == 200 and "FunctionError" not in reply
    assert json.loads(reply["Payload"].read()) == {
        "connections": 0,
        "delivered": 0,
        "gone": 0,
        "throttled": 0,
    }

    arn = "arn:aws:lambda:us-east-1:123456789012:function:engagements-dev-fanout"
    reply = await asyncio.to_thread(
        client.invoke, FunctionName=arn, InvocationType="Event", Payload=json.dumps(empty)
    )
    assert reply["StatusCode"] == 202
    await wait_for(lambda: len(RECORDER.get("fanout")) == 2)

    boom = {"routeKey": "ANY /files/{path+}", "pathParameters": {"path": "boom"}}
    reply = await asyncio.to_thread(
        client.invoke, FunctionName="engagements-dev-http", Payload=json.dumps(boom)
    )
    assert reply["FunctionError"] == "Unhandled"
    error = json.loads(reply["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "asked to fail")

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        await asyncio.to_thread(client.invoke, FunctionName="no-such-function", Payload=b"{}")


async def test_a_deadline_sent_with_delay_seconds_arrives_as_an_sqs_event(gateway: Gateway) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(gateway, "g1")) as ws:
        sent = time.time()
        await ws.send_str(json.dumps({"action": "deadline", "game": "g1", "deadline": sent + 1, "delay": 1}))
        [delivered] = await wait_for(lambda: RECORDER.get("deadline"))
    SqsModel.model_validate(delivered["event"])
    [record] = delivered["event"]["Records"]
    assert json.loads(record["body"]) == {"game_id": "g1", "deadline": sent + 1}
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:engagements-dev-deadlines"
    assert delivered["at"] >= sent + 1  # never early
    print(f"deadline of 1 s fired {delivered['at'] - sent - 1:.3f} s late")


# -- the HTTP API ----------------------------------------------------------------------------------------


def test_http_routes_match_as_api_gateway_does() -> None:
    routes = [
        "GET /api/packs/{name}",
        "GET /api/packs/classic",
        "ANY /files/{path+}",
        "POST /files/upload",
        "$default",
    ]
    assert match(routes, "GET", "/api/packs/classic") == ("GET /api/packs/classic", {})
    assert match(routes, "GET", "/api/packs/other%20one") == ("GET /api/packs/{name}", {"name": "other one"})
    assert match(routes, "POST", "/files/upload") == ("POST /files/upload", {})
    assert match(routes, "PUT", "/files/a/b") == ("ANY /files/{path+}", {"path": "a/b"})
    assert match(routes, "GET", "/api/packs") == ("$default", {})
    assert match(routes[:-1], "GET", "/elsewhere") is None


async def test_http_api_events_and_responses_are_payload_format_2(gateway: Gateway) -> None:
    async with aiohttp.ClientSession(base_url=gateway.settings.http_url) as http:
        async with http.post(
            "/api/games?a=1&a=2", json={"title": "Quiz"}, headers={"Cookie": "s=1; t=2", "X-Thing": "yes"}
        ) as r:
            assert r.status == 201 and r.headers["X-Route"] == "POST /api/games"
            assert r.headers.getall("Set-Cookie") == ["first=1; Path=/", "second=2; Path=/"]
            assert await r.json() == {"created": True}
        async with http.get("/api/packs/classic") as r:
            assert (r.status, r.content_type, await r.json()) == (
                200,
                "application/json",
                {"name": "classic"},
            )
        async with http.get("/api/games/g1/qr.svg") as r:
            assert await r.read() == b"\x89PNG\r\n\x1a\n" + bytes(range(256))
        async with http.put(
            "/files/a/b", data=b"\xff\x00binary", headers={"Content-Type": "application/octet-stream"}
        ) as r:
            assert await r.json() == {"path": "a/b"}
        async with http.get("/files/boom") as r:
            assert (r.status, await r.json()) == (500, {"message": "Internal Server Error"})
        async with http.get("/nowhere") as r:
            assert (r.status, await r.json()) == (404, {"message": "Not Found"})

    created, _, _, upload, _ = RECORDER.get("http")
    for event in RECORDER.get("http"):
        APIGatewayProxyEventV2Model.model_validate(event)
    assert created["routeKey"] == "POST /api/games" and created["rawQueryString"] == "a=1&a=2"
    assert created["queryStringParameters"] == {"a": "1,2"}
    assert created["cookies"] == ["s=1", "t=2"] and "cookie" not in created["headers"]
    assert created["headers"]["x-thing"] == "yes"
    assert (json.loads(created["body"]), created["isBase64Encoded"]) == ({"title": "Quiz"}, False)
    assert upload["isBase64Encoded"] and base64.b64decode(upload["body"]) == b"\xff\x00binary"
    assert upload["requestContext"]["http"]["method"] == "PUT"


async def test_the_http_apis_cors_configuration_is_applied_as_api_gateway_does(gateway: Gateway) -> None:
    preflight = {"Origin": "http://pages.test", "Access-Control-Request-Method": "POST"}
    async with aiohttp.ClientSession(base_url=gateway.settings.http_url) as http:
        async with http.options("/api/games", headers=preflight) as r:
            assert r.status == 204
            assert r.headers["Access-Control-Allow-Origin"] == "http://pages.test"
            assert r.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
            assert r.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
            assert r.headers["Access-Control-Max-Age"] == "600"
        async with http.options("/api/games", headers={**preflight, "Origin": "http://elsewhere.test"}) as r:
            assert r.status == 204 and "Access-Control-Allow-Origin" not in r.headers
        async with http.post("/api/games", json={}, headers={"Origin": "http://pages.test"}) as r:
            assert r.headers.getall("Access-Control-Allow-Origin") == ["http://pages.test"]
            assert r.headers["Access-Control-Expose-Headers"] == "retry-after"
        async with http.post("/api/games", json={}, headers={"Origin": "http://elsewhere.test"}) as r:
            assert r.status == 201 and "Access-Control-Allow-Origin" not in r.headers
    assert [e["routeKey"] for e in RECORDER.get("http")] == [
        "POST /api/games"
    ] * 2  # preflights never reach it


def test_message_routes_follow_the_route_selection_expression(moto_endpoint) -> None:
    locale = Locale(
        "us-east-1", moto_endpoint, {"WEBSOCKET": "http://127.0.0.1:1", "HTTP": "http://127.0.0.1:2"}
    )
    api = read(TEMPLATES, locale, exports={f"{BASE_STACK}-TableName": "t"}).api("WEBSOCKET")
    assert api is not None
    with_route = type(api)(**{**api.__dict__, "routes": {**api.routes, "echo": "engagements-dev-default"}})
    assert select_route(with_route, '{"action": "echo"}') == "echo"
    assert select_route(with_route, '{"action": "$connect"}') == "$default"
    assert select_route(with_route, "not json") == "$default"
    assert select_route(api, '{"action": "echo"}') == "$default"


# -- fan-out: one broadcast to 1,000 connections ---------------------------------------------------------


async def test_a_broadcast_reaches_1000_connections_with_some_gone_and_some_throttled(
    start_gateway: StartGateway, cloud_table: str
) -> None:
    gateway = await start_gateway()
    total, gone, throttled = 1000, 50, 100
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        opening = asyncio.Semaphore(50)

        async def open_one() -> aiohttp.ClientWebSocketResponse:
            async with opening:
                return await session.ws_connect(socket_url(gateway, "big"))

        sockets = await asyncio.gather(*(open_one() for _ in range(total)))
        # These leave, but (by the fixture's design) their $disconnect never reaches the table.
        for ws in sockets[:gone]:
            await ws.close()
        await wait_for(lambda: len(RECORDER.get("disconnect")) == gone)
        live = sockets[gone:]

        gateway.state.throttle.fail_next(throttled)
        started = time.perf_counter()
        await live[0].send_str(json.dumps({"action": "broadcast", "game": "big", "text": "hello, everyone"}))
        received = await asyncio.gather(*(ws.receive(timeout=60) for ws in live))
        elapsed = time.perf_counter() - started
        [report] = await wait_for(lambda: RECORDER.get("fanout"))
        for ws in live:
            await ws.close()

    assert [m.data for m in received] == ["hello, everyone"] * (total - gone)
    assert report == {"connections": total, "delivered": total - gone, "gone": gone, "throttled": throttled}
    dynamodb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    left = dynamodb.query(
        TableName=cloud_table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "GAME#big"}},
        Select="COUNT",
    )
    assert left["Count"] == total - gone  # every gone connection's item deleted, no live one
    counts = gateway.state.runtime.counts.by_function
    assert counts["engagements-dev-fanout"] == 1 and counts["engagements-dev-connect"] == total
    print(f"fan-out to {total - gone} live of {total} ({gone} gone, {throttled} throttled): {elapsed:.2f} s")


# -- make cloud-local -------------------------------------------------------------------------------------


async def test_the_command_starts_moto_the_table_and_the_gateway(unused_tcp_port_factory) -> None:
    port, http_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    templates = [arg for t in TEMPLATES for arg in ("--template", str(t.relative_to(ROOT)))]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ENGAGEMENTS_"))}
    ports = ["--port", str(port), "--http-port", str(http_port)]
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.cloudlocal", *templates, *ports],
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        lines = []
        async with asyncio.timeout(60):
            while not lines or not lines[-1].startswith("Press Ctrl+C"):
                line = await process.stdout.readline()
                assert line, "\n".join(lines)
                lines.append(line.decode().rstrip())
        printed = "\n".join(lines)
        assert f"WebSocket API:   ws://127.0.0.1:{port}/dev?game=<id>" in printed
        assert f"HTTP API:        http://127.0.0.1:{http_port}" in printed
        assert "DynamoDB table engagements-dev" in printed
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"ws://127.0.0.1:{port}/?game=g1") as ws:
                await ws.send_str(json.dumps({"action": "echo", "n": 1}))
                assert json.loads((await ws.receive(timeout=10)).data) == {"action": "echo", "n": 1}
            async with session.get(f"http://127.0.0.1:{http_port}/api/packs/classic") as r:
                assert await r.json() == {"name": "classic"}
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0


def test_every_option_of_the_command_is_documented() -> None:
    documented = (ROOT / "docs" / "cloud-local.md").read_text()
    for action in parser()._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert f"`{option}" in documented, option
                variable = "ENGAGEMENTS_CLOUD_LOCAL_" + option[2:].upper().replace("-", "_")
                assert variable in documented or variable + "S" in documented, variable


def test_functions_that_disagree_on_a_variable_are_refused_unless_overridden() -> None:
    one = Function(name="one", handler="m.f", environment={"TABLE_NAME": "a", "SHARED": "x"})
    two = Function(name="two", handler="m.g", environment={"TABLE_NAME": "b", "SHARED": "x"})
    with pytest.raises(TemplateError, match="TABLE_NAME"):
        shared_environment([one, two], {})
    assert shared_environment([one, two], {"TABLE_NAME": "c"}) == {"TABLE_NAME": "c", "SHARED": "x"}


def test_intrinsic_functions_and_conditions_resolve_to_local_values(tmp_path, moto_endpoint) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Environment: {Type: String, Default: prod}
  Zones: {Type: CommaDelimitedList, Default: "a, b"}
Mappings:
  Sizes: {prod: {Memory: 1024}}
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
  IsNotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Or [!Condition IsNotProd, !Equals [x, x]]]
Resources:
  Queue:
    Type: AWS::SQS::Queue
  OnlyInDev:
    Type: AWS::SQS::Queue
    Condition: IsNotProd
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Handler: m.f
      MemorySize: !FindInMap [Sizes, !Ref Environment, Memory]
      Timeout: !If [Both, 7, 3]
      Environment:
        Variables:
          JOINED: !Join ["-", [!Ref Environment, !Select [1, !Ref Zones]]]
          SPLIT: !Select [0, !Split [",", "p,q"]]
          QUEUE_NAME: !GetAtt Queue.QueueName
          ESCAPED: !Sub "${!Literal}-${AWS::AccountId}"
          WITH_VARIABLES: !Sub ["${Name}.${AWS::Region}", {Name: !Ref Environment}]
          GONE: !If [IsNotProd, here, !Ref AWS::NoValue]
"""
    )
    locale = Locale("eu-west-1", moto_endpoint, {})
    wiring = read([template], locale)
    [function] = wiring.functions.values()
    assert (function.name, function.memory_mb, function.timeout) == ("local-t-Function", 1024, 7)
    assert function.environment == {
        "JOINED": "prod-b",
        "SPLIT": "p",
        "QUEUE_NAME": "local-t-Queue",
        "ESCAPED": "${Literal}-123456789012",
        "WITH_VARIABLES": "prod.eu-west-1",
    }
    assert [queue.name for queue in wiring.queues] == ["local-t-Queue"]
    unsupported = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Cidr [a, 1, 2]\n"
    )
    template.write_text(unsupported)
    with pytest.raises(TemplateError, match="Fn::Cidr"):
        read([template], locale)
