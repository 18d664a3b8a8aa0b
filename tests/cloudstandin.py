"""Test tooling for the Lambda handlers: API Gateway-shaped events, and a STAND-IN for two AWS APIs.

The stand-in is not AWS and not the local gateway (tests/cloudlocal/, `make cloud-local`, which will
replace it): a small real HTTP server on 127.0.0.1 that answers the two calls the handlers make that
moto cannot serve faithfully:

- API Gateway's management API, `POST /@connections/{id}` (recorded; 410 with
  `x-amzn-ErrorType: GoneException` for a connection marked gone, 429 `LimitExceededException` a set
  number of times for a throttled one) and `DELETE /@connections/{id}`;
- Lambda's asynchronous invoke, `POST /2015-03-31/functions/{name}/invocations` with
  `X-Amz-Invocation-Type: Event`: answered 202 at once, the function run on a thread of its own.

Every event the tests pass to a handler is validated first with aws-lambda-powertools' models of
API Gateway's and SQS's events, so the handlers see what AWS sends them.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
    SqsModel,
)

API_ID = "a1b2c3d4e5"
STAGE = "dev"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"


class StandIn:
    """The management API and Lambda's async invoke, on 127.0.0.1 (see the module's docstring)."""

    def __init__(self, functions: dict[str, Callable[[dict[str, Any]], Any]]) -> None:
        self.functions = functions
        self.posted: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.throttle: dict[str, int] = {}  # connection -> 429s still to answer
        self.throttled = 0
        self.deleted: list[str] = []
        self.invocations: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.running: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.drain()
        self.server.shutdown()
        self.server.server_close()

    def drain(self, timeout: float = 60) -> None:
        """Wait for the asynchronous invocations (and those they made) to finish."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                running = [t for t in self.running if t.is_alive()]
            if not running:
                break
            running[0].join(max(0.0, deadline - time.monotonic()))
            assert time.monotonic() < deadline, "asynchronous invocations still running"
        assert not self.errors, self.errors

    def messages(self, connection_id: str, type_: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            found = list(self.posted[connection_id])
        return [m for m in found if type_ is None or m["type"] == type_]

    def _invoke(self, name: str, payload: dict[str, Any]) -> None:
        try:
            self.functions[name](payload)
        except BaseException as e:  # reported by drain()
            self.errors.append(e)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, kind: str) -> None:
                body = json.dumps({"message": kind}).encode()
                self._reply(status, body, **{"x-amzn-ErrorType": kind, "Content-Type": "application/json"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.startswith("/@connections/"):
                    connection = unquote(self.path.removeprefix("/@connections/"))
                    with standin.lock:
                        if connection in standin.gone:
                            return self._error(410, "GoneException")
                        if standin.throttle.get(connection, 0) > 0:
                            standin.throttle[connection] -= 1
                            standin.throttled += 1
                            return self._error(429, "LimitExceededException")
                        standin.posted[connection].append(json.loads(body))
                    return self._reply(200)
                if self.path.startswith("/2015-03-31/functions/"):
                    name = unquote(self.path.split("/")[3])
                    assert self.headers.get("X-Amz-Invocation-Type") == "Event"
                    payload = json.loads(body)
                    thread = threading.Thread(target=standin._invoke, args=(name, payload))
                    with standin.lock:
                        standin.invocations.append(payload)
                        standin.running.append(thread)
                    thread.start()
                    return self._reply(202)
                return self._error(404, "NotFoundException")

            def do_DELETE(self) -> None:
                connection = unquote(self.path.removeprefix("/@connections/"))
                with standin.lock:
                    standin.deleted.append(connection)
                    if connection in standin.gone:
                        return self._error(410, "GoneException")
                    standin.gone.add(connection)
                return self._reply(204)

        return Handler


# -- API Gateway-shaped events, checked against powertools' models ---------------------------------

_ids = itertools.count()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _ws_context(route: str, event_type: str, connection_id: str, at: int) -> dict[str, Any]:
    return {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": f"x{next(_ids)}",
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(at / 1000)),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": at,
        "requestTimeEpoch": at,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
        "requestId": f"r{next(_ids)}",
        "domainName": DOMAIN,
        "connectionId": connection_id,
        "apiId": API_ID,
    }


def connect_event(
    connection_id: str, game_id: str | None, at: int | None = None, origin: str | None = None
) -> dict[str, Any]:
    at = now_ms() if at is None else at
    headers = {"Host": DOMAIN, "Sec-WebSocket-Version": "13"} | ({"Origin": origin} if origin else {})
    event = {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {"game": game_id} if game_id else None,
        "multiValueQueryStringParameters": {"game": [game_id]} if game_id else None,
        "requestContext": _ws_context("$connect", "CONNECT", connection_id, at),
        "isBase64Encoded": False,
    }
    APIGatewayWebSocketConnectEventModel.model_validate(event)
    return event


def message_event(connection_id: str, body: str, at: int | None = None) -> dict[str, Any]:
    at = now_ms() if at is None else at
    context = {**_ws_context("$default", "MESSAGE", connection_id, at), "messageId": f"m{next(_ids)}"}
    event = {"requestContext": context, "body": body, "isBase64Encoded": False}
    APIGatewayWebSocketMessageEventModel.model_validate(event)
    return event


def disconnect_event(connection_id: str) -> dict[str, Any]:
    headers = {"Host": DOMAIN}
    context = {
        **_ws_context("$disconnect", "DISCONNECT", connection_id, now_ms()),
        "disconnectStatusCode": 1001,
        "disconnectReason": "Going away",
    }
    event = {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }
    APIGatewayWebSocketDisconnectEventModel.model_validate(event)
    return event


def http_event(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """`path` may end in a query string: API Gateway's `rawQueryString` and `queryStringParameters`."""
    at = now_ms()
    all_headers = {"host": DOMAIN, "content-type": "application/json", **(headers or {})}
    path, _, raw_query = path.partition("?")
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        **({"queryStringParameters": dict(parse_qsl(raw_query))} if raw_query else {}),
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "requestId": f"r{next(_ids)}",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(at / 1000)),
            "timeEpoch": at,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
    APIGatewayProxyEventV2Model.model_validate(event)
    return event


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    at = str(now_ms())
    records = [
        {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": f"h{next(_ids)}",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "ApproximateFirstReceiveTimestamp": at,
                "SenderId": "AIDATEST",
                "SentTimestamp": at,
            },
            "messageAttributes": {},
            "md5OfBody": "0" * 32,
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:deadlines",
            "awsRegion": "us-east-1",
        }
        for body in bodies
    ]
    event = {"Records": records}
    SqsModel.model_validate(event)
    return event
