"""API Gateway's event and response shapes, built and read as the real service does.

WebSocket events follow AWS's Lambda proxy format for WebSocket APIs (tests check them against
aws-lambda-powertools' pydantic models); HTTP events follow the HTTP API's payload format 2.0.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from multidict import CIMultiDict, MultiMapping

from .intrinsics import PSEUDO_ACCOUNT

TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded")


def now_ms() -> int:
    return int(time.time() * 1000)


def request_time(epoch_ms: int) -> str:
    """API Gateway's `requestTime`: 02/Dec/2026:10:00:00 +0000."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _request_id() -> str:
    return base64.b64encode(uuid.uuid4().bytes[:12]).decode()


@dataclass(frozen=True)
class Peer:
    """What API Gateway knows of one WebSocket connection from its opening request."""

    connection_id: str
    connected_at: int  # epoch ms
    source_ip: str
    user_agent: str
    domain_name: str
    headers: MultiMapping[str] = field(default_factory=CIMultiDict)
    query: MultiMapping[str] = field(default_factory=CIMultiDict)


def _multi(values: MultiMapping[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in values.items():
        single[key] = value  # the last one wins, as in API Gateway's single-value maps
        multi.setdefault(key, []).append(value)
    return single, multi


def _context(peer: Peer, api_id: str, stage: str, route_key: str, event_type: str) -> dict[str, Any]:
    epoch = now_ms()
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": _request_id(),
        "requestTime": request_time(epoch),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": peer.connected_at,
        "requestTimeEpoch": epoch,
        "identity": {"sourceIp": peer.source_ip, "userAgent": peer.user_agent},
        "requestId": _request_id(),
        "domainName": peer.domain_name,
        "connectionId": peer.connection_id,
        "apiId": api_id,
    }


def connect_event(peer: Peer, api_id: str, stage: str) -> dict[str, Any]:
    headers, multi_headers = _multi(peer.headers)
    event: dict[str, Any] = {
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "requestContext": _context(peer, api_id, stage, "$connect", "CONNECT"),
        "isBase64Encoded": False,
    }
    if peer.query:
        event["queryStringParameters"], event["multiValueQueryStringParameters"] = _multi(peer.query)
    return event


def message_event(peer: Peer, api_id: str, stage: str, route_key: str, data: str | bytes) -> dict[str, Any]:
    context = _context(peer, api_id, stage, route_key, "MESSAGE")
    context["messageId"] = _request_id()
    binary = isinstance(data, bytes)
    return {
        "requestContext": context,
        "body": base64.b64encode(data).decode() if binary else data,
        "isBase64Encoded": binary,
    }


def disconnect_event(peer: Peer, api_id: str, stage: str, status: int, reason: str) -> dict[str, Any]:
    context = _context(peer, api_id, stage, "$disconnect", "DISCONNECT")
    context["disconnectStatusCode"] = status
    context["disconnectReason"] = reason
    headers = {"Host": peer.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def status_of(result: Any) -> int:
    """The status a WebSocket route's integration answered; a handler that returns nothing answered 200."""
    if isinstance(result, dict) and "statusCode" in result:
        return int(result["statusCode"])
    return 200


# -- HTTP API, payload format 2.0 ------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an HTTP request the event needs, already read from the socket."""

    method: str
    raw_path: str
    raw_query: str
    headers: MultiMapping[str]
    query: MultiMapping[str]
    body: bytes
    source_ip: str


def is_text(content_type: str) -> bool:
    return any(marker in content_type.lower() for marker in TEXT_TYPES)


def http_event(
    request: HttpRequest, route_key: str, path_parameters: dict[str, str], api_id: str, stage: str
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in request.headers.items():
        if key.lower() == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        key = key.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key, value in request.query.items():
        query[key] = f"{query[key]},{value}" if key in query else value
    epoch = now_ms()
    host = headers.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": PSEUDO_ACCOUNT,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": _request_id(),
            "routeKey": route_key,
            "stage": stage,
            "time": request_time(epoch),
            "timeEpoch": epoch,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        if is_text(headers.get("content-type", "")):
            event["body"] = request.body.decode("utf-8", "replace")
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(request.body).decode(), True
    return event


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_response(result: Any) -> HttpResponse:
    """Maps a handler's result as payload format 2.0 does, including its guess when there is no statusCode."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("Content-Type", "application/json")], body.encode())
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or []]
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    if not any(k.lower() == "content-type" for k, _ in headers) and raw:
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(int(result["statusCode"]), headers, raw)


INTERNAL_ERROR = HttpResponse(
    500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}'
)
NOT_FOUND = HttpResponse(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
