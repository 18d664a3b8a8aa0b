"""Network faults on demand, for tests: a TCP relay that can be cut, and an HTTP proxy in front of a
DynamoDB-compatible server that misbehaves the ways AWS sometimes does (moto itself never does)."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

DYNAMODB = "DynamoDB_20120810"


class TcpProxy:
    """A loopback TCP relay to `target_port` that a test can cut, like a network dropping mid-run."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> int:
        """Listen (again, on the same port when given one): the network is back."""
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", port)
        return self.server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        """Stop accepting and drop every open connection."""
        if self.server is not None:
            self.server.close()
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()


Reply = tuple[int, dict[str, Any]]
Fault = Callable[[dict[str, Any], Callable[[dict[str, Any]], Reply]], Reply]


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of moto that misbehaves when told to, as AWS sometimes does.

    It passes on DynamoDB requests only: anything else (CloudFormation) gets the answer of a server
    that speaks nothing but DynamoDB.

    `inject(action, fault)` sends the next request for `action` ("BatchWriteItem") through
    `fault(request, forward)`, which may change the request, change the reply or answer by itself.
    With `serialize`, requests reach moto one at a time: moto checks a transaction's conditions and
    applies its writes without a lock, where DynamoDB serialises the writes to an item, so racing
    clients must be tested through it.
    """

    def __init__(self, upstream: str, *, serialize: bool = False) -> None:
        self.upstream = urlsplit(upstream)
        self._serial = threading.Lock() if serialize else None
        self.actions: list[str] = []
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def inject(self, action: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.setdefault(action, []).extend([fault] * times)

    def pending(self, action: str) -> int:
        with self._lock:
            return len(self._faults.get(action, []))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self, action: str) -> Fault | None:
        with self._lock:
            self.actions.append(action)
            faults = self._faults.get(action)
            return faults.pop(0) if faults else None

    def _send(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self._serial is None:
            return self._forward(body, headers)
        with self._serial:
            return self._forward(body, headers)

    def _forward(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            connection.request("POST", "/", body, headers | {"Content-Length": str(len(body))})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                target = self.headers.get("X-Amz-Target", "")
                fault = proxy._next_fault(target.removeprefix(f"{DYNAMODB}."))
                if not target.startswith(DYNAMODB):  # CloudFormation, say: a DynamoDB-only server's answer
                    status, answer = unknown_operation({}, lambda request: (0, {}))
                    reply, content_type = json.dumps(answer).encode(), "application/x-amz-json-1.0"
                elif fault is None:
                    status, reply_headers, reply = proxy._send(body, headers)
                    content_type = reply_headers.get("Content-Type", "application/x-amz-json-1.0")
                else:

                    def forward(request: dict[str, Any]) -> Reply:
                        status, _, reply = proxy._send(json.dumps(request).encode(), headers)
                        return status, json.loads(reply)

                    status, answer = fault(json.loads(body), forward)
                    reply, content_type = json.dumps(answer).encode(), "application/x-amz-json-1.0"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("x-amz-crc32", str(zlib.crc32(reply)))  # botocore checks it
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def aws_error(kind: str, message: str, **extra: Any) -> Reply:
    return 400, {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message, **extra}


def throttle(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
    return aws_error("ThrottlingException", "Rate of requests exceeds the allowed throughput.")


def conflict(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
    reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
    reasons += [{"Code": "None"}] * (len(request["TransactItems"]) - 1)
    return aws_error("TransactionCanceledException", "Transaction cancelled", CancellationReasons=reasons)


def leave_unprocessed(count: int) -> Fault:
    """Forwards all but the last `count` writes and reports those unprocessed, as a busy partition would."""

    def fault(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
        ((table, writes),) = request["RequestItems"].items()
        status, reply = forward({**request, "RequestItems": {table: writes[:-count]}})
        reply["UnprocessedItems"] = {table: writes[-count:]}
        return status, reply

    return fault


def omit_old_item(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
    """As an endpoint without ReturnValuesOnConditionCheckFailure answers a failed condition."""
    status, reply = forward({k: v for k, v in request.items() if k != "ReturnValuesOnConditionCheckFailure"})
    reply.pop("Item", None)
    return status, reply


def unknown_operation(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
    """As a DynamoDB-compatible server answers an operation it does not have (transactions, say)."""
    return aws_error("UnknownOperationException", "")


def slowly(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
    time.sleep(0.5)
    return forward(request)
