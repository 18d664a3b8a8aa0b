"""Everything a function needs, built once per Lambda container from its environment.

Lambda reuses a container for many invocations, so the table's client, the management API client and
the rest are made on the first invocation and kept (the AWS guidance for cold starts); each
invocation runs its coroutine on a fresh event loop. A container is keyed by its configuration, so
a test that points the functions at another table gets another runtime.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import boto3

from cloud.coalesce import RoomUpdates
from cloud.config import Config
from cloud.connections import Connections
from cloud.deadlines import Deadlines
from cloud.delivery import Invoker, Poster
from cloud.games import CloudGames
from cloud.metrics import EmbeddedMetrics
from cloud.routes import Routes
from cloud.sockets import Sockets
from cloud.webhooks import TIMEOUT as WEBHOOK_TIMEOUT
from cloud.webhooks import CloudWebhooks
from engagements.deliveries import Retry
from engagements.plugins import load_types
from engagements.store.dynamodb import DynamoStore

T = TypeVar("T")


@dataclass
class Runtime:
    config: Config
    games: CloudGames
    sockets: Sockets
    routes: Routes
    webhooks: CloudWebhooks
    telemetry: EmbeddedMetrics

    @staticmethod
    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run(coroutine)


class AdminSecret:
    """The admin secret: from the environment in local runs, else the SSM parameter, read once."""

    def __init__(self, config: Config, session: boto3.Session) -> None:
        self.config = config
        self.session = session
        self._value = config.admin_secret
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._value is None:
                if not self.config.admin_secret_parameter:
                    raise RuntimeError("set ADMIN_SECRET_PARAMETER (or ADMIN_SECRET for local runs)")
                ssm = self.session.client("ssm")
                reply = ssm.get_parameter(Name=self.config.admin_secret_parameter, WithDecryption=True)
                self._value = reply["Parameter"]["Value"]
            return self._value


@cache
def build(config: Config) -> Runtime:
    session = boto3.Session()
    store = asyncio.run(DynamoStore.open(config.table, session=session))
    telemetry = EmbeddedMetrics(config.environment)
    deadlines = (
        Deadlines(session.client("sqs"), config.deadline_queue_url) if config.deadline_queue_url else None
    )
    games = CloudGames(
        store, load_types(), retention_days=config.retention_days, telemetry=telemetry, deadlines=deadlines
    )
    poster = Poster(session.client("apigatewaymanagementapi", endpoint_url=config.websocket_endpoint or None))
    invoker = Invoker(session.client("lambda"), config.fanout_function) if config.fanout_function else None
    room_updates = RoomUpdates(store, deadlines, games.clock)
    sockets = Sockets(
        games,
        Connections(store),
        poster,
        invoker,
        deadlines,
        room_updates,
        join_base=config.public_url,
        allowed_origins=config.allowed_origins,
        telemetry=telemetry,
    )
    routes = Routes(
        games,
        AdminSecret(config, session),
        sockets.room_changed,
        public_url=config.public_url,
        telemetry=telemetry,
    )
    retry = Retry(first=config.webhook_retry, timeout=WEBHOOK_TIMEOUT)
    webhooks = CloudWebhooks(store, deadlines, games.clock, retry=retry, private=config.webhook_private)
    games.on_finished = webhooks.finished
    return Runtime(config, games, sockets, routes, webhooks, telemetry)


_building = threading.Lock()


def runtime() -> Runtime:
    """The runtime of this container's configuration (threads of one container share it)."""
    config = Config.from_env()
    with _building:
        return build(config)
