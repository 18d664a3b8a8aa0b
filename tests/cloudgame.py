"""A pytest plugin for the cloud tests: the handlers wired to moto (DynamoDB, SQS) and the stand-in.

`cloud` is the deployed stack as the handlers see it: their environment variables point at a fresh
table and queue on the moto server and at tests/cloudstandin.py's management API and Lambda endpoint;
the handlers are called as Lambda calls them, with API Gateway-shaped events.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections import Counter
from typing import Any

import boto3
import pytest

from cloud.handlers import deadline, fanout, http, websocket
from cloud.runtime import Runtime, runtime
from tests.cloudstandin import StandIn, connect_event, http_event, message_event, sqs_event

ADMIN_SECRET = "cloud-admin-secret-0123456789"
ADMIN = {"authorization": f"Bearer {ADMIN_SECRET}"}


class View:
    """One socket: a phone, the host console or the big screen, as API Gateway would relay it."""

    _ids = itertools.count()

    def __init__(self, cloud: Cloud, connection_id: str) -> None:
        self.cloud = cloud
        self.id = connection_id
        self.player: str | None = None

    def send(self, type_: str, at: int | None = None, **fields: Any) -> str:
        msg = {"type": type_, **fields}
        if type_ not in ("hello", "ping", "sync", "players", "results") and "id" not in fields:
            msg["id"] = f"c{next(self._ids)}"
        reply = websocket.default(message_event(self.id, json.dumps(msg), at), None)
        assert reply == {"statusCode": 200}
        return msg.get("id", "")

    def messages(self, type_: str | None = None) -> list[dict[str, Any]]:
        return self.cloud.standin.messages(self.id, type_)

    def reply(self, cmd_id: str) -> dict[str, Any]:
        found = [m for m in self.messages() if m["type"] in ("ack", "error") and m.get("id") == cmd_id]
        assert len(found) == 1, (cmd_id, self.messages()[-5:])
        return found[0]

    def ok(self, type_: str, **fields: Any) -> dict[str, Any]:
        reply = self.reply(self.send(type_, **fields))
        assert reply["type"] == "ack", reply
        return reply

    def last(self, type_: str) -> dict[str, Any]:
        found = self.messages(type_)
        assert found, f"no {type_} for {self.id}: {self.messages()[-5:]}"
        return found[-1]

    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.messages() if "seq" in m and m["type"] != "snapshot"]


class Cloud:
    def __init__(self, standin: StandIn, rt: Runtime, queue_url: str, sqs: Any) -> None:
        self.standin = standin
        self.rt = rt
        self.queue_url = queue_url
        self.sqs = sqs
        self._phones = itertools.count()

    def http(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        address: str = "127.0.0.1",
    ) -> tuple[int, Any]:
        """A request from `address` (API Gateway's `sourceIp`, what a kick's address ban keys on)."""
        event = http_event(method, path, body, headers)
        event["requestContext"]["http"]["sourceIp"] = address
        reply = http.handler(event, None)
        kind = reply["headers"]["content-type"]
        return reply["statusCode"], json.loads(reply["body"]) if kind == "application/json" else reply["body"]

    def run_queued(self, wait: float = 1.1) -> int:
        """After `wait` seconds, hand what the deadline queue holds to its function, as Lambda's SQS
        poller would (a queued `room` update is due a second after the change that queued it)."""
        time.sleep(wait)
        found = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if found:
            assert deadline.handler(sqs_event([m["Body"] for m in found]), None) == {"batchItemFailures": []}
        for m in found:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return len(found)

    def run_all_queued(self) -> int:
        """`run_queued` until nothing more is due: changes spread over more than a second queue more
        than one update."""
        total = 0
        while ran := self.run_queued():
            total += ran
        return total

    def create(self, prompts: list[str] | None = None, **settings: Any) -> dict[str, Any]:
        body = {
            "title": "Cloud night",
            "prompts": prompts or ["A bad name for a cat", "The worst pizza"],
            **settings,
        }
        status, created = self.http("POST", "/api/games", body, ADMIN)
        assert status == 201, created
        return created

    def connect(self, game_id: str) -> View:
        connection_id = uuid.uuid4().hex[:12] + "="
        assert websocket.connect(connect_event(connection_id, game_id), None) == {"statusCode": 200}
        return View(self, connection_id)

    def host(self, created: dict[str, Any], view: str = "host") -> View:
        host = self.connect(created["game_id"])
        host.send("hello", token=created["host_token"], view=view)
        assert host.last("snapshot")
        return host

    def join(self, created: dict[str, Any], nickname: str) -> View:
        """A phone joins and says hello; each from its own address, as phones on a venue's Wi-Fi."""
        n = next(self._phones)
        body = {"code": created["code"], "nickname": nickname}
        status, joined = self.http(
            "POST", "/api/join", body, address=f"10.{n // 62500}.{n // 250 % 250}.{n % 250 + 1}"
        )
        assert status == 200, joined
        phone = self.connect(created["game_id"])
        phone.player = joined["player_id"]
        phone.send("hello", token=joined["player_token"], view="player")
        assert phone.last("snapshot")["you"]["player"]["id"] == joined["player_id"]
        return phone


class Calls:
    """DynamoDB calls of the runtime's client, counted through botocore's event hooks (real calls)."""

    def __init__(self, client: Any) -> None:
        self.reads = 0  # items read: one per GetItem, the items a Query returned
        self.writes = 0  # items written: one per Put/Update/Delete, each item of a transaction
        self.operations: Counter[str] = Counter()
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        self.operations[model.name] += 1
        if model.name == "TransactWriteItems":
            self.writes += len(params["TransactItems"])
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.writes += 1
        elif model.name == "BatchWriteItem":
            self.writes += sum(len(v) for v in params["RequestItems"].values())

    def _after(self, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        if model.name == "GetItem":
            self.reads += 1
        elif model.name == "Query":
            self.reads += parsed.get("Count", 0)

    def snapshot(self) -> tuple[int, int]:
        return self.reads, self.writes


@pytest.fixture
def dynamodb_endpoint(moto_endpoint) -> str:
    """Where the handlers find DynamoDB: moto, or a proxy in front of it (tests/faults.py)."""
    return moto_endpoint


@pytest.fixture(name="cloud")
def cloud_stack(moto_endpoint, dynamodb_endpoint, cloud_table, monkeypatch):
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    queue_url = sqs.create_queue(QueueName=f"deadlines-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    standin = StandIn({"fanout": lambda payload: fanout.handler(payload, None)}).start()
    for name, value in {
        "TABLE_NAME": cloud_table,
        "WEBSOCKET_ENDPOINT": standin.url,
        "FANOUT_FUNCTION": "fanout",
        "DEADLINE_QUEUE_URL": queue_url,
        "ADMIN_SECRET": ADMIN_SECRET,
        "PUBLIC_URL": "https://play.example.test",
        "ALLOWED_ORIGINS": "https://play.example.test",
        "ENVIRONMENT": "dev",
        "POWERTOOLS_SERVICE_NAME": "engagements",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
        "AWS_ENDPOINT_URL_LAMBDA": standin.url,
    }.items():
        monkeypatch.setenv(name, value)
    yield Cloud(standin, runtime(), queue_url, sqs)
    standin.stop()
