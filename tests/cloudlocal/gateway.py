"""The local gateway: templates in, listening ports out, a test double of API Gateway and Lambda.

Port `port` serves what lives on API Gateway's WebSocket domain (the browser socket at `/` or `/{stage}`,
the management API at `/@connections/{id}`) plus Lambda's Invoke API; port `http_port` serves the HTTP API;
`pages_port`, when given, the browser pages rendered for those two APIs (the stand-in for S3 and CloudFront,
tests/cloudlocal/pages.py).
DynamoDB, SQS and SSM are moto's, at `aws_endpoint`. See docs/cloud-local.md for what is and is not emulated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from aiohttp import web

from web.pages import GAME, Endpoints, build_site

from . import http_api, invoke, management, pages, websocket
from .connections import Connections, Limits
from .lambdas import LambdaRuntime
from .sqs import QueuePoller
from .state import GATEWAY, GatewayState
from .template import Locale, Wiring, read
from .throttle import Throttle

log = logging.getLogger(__name__)


@dataclass
class Settings:
    """Everything the gateway needs; `python -m tests.cloudlocal` fills it from the command line."""

    templates: list[Path]
    aws_endpoint: str  # moto server: DynamoDB, SQS, SSM
    port: int
    http_port: int
    host: str = "127.0.0.1"
    region: str = "us-east-1"
    parameters: Mapping[str, str] = field(default_factory=dict)
    exports: Mapping[str, str] = field(default_factory=dict)  # e.g. the base stack's TableName
    environment: Mapping[str, str] = field(default_factory=dict)  # overrides for every function
    limits: Limits = field(default_factory=Limits)
    post_rate: float | None = None  # post_to_connection calls a second before 429; None: no limit
    concurrency: int = 32  # handler threads
    poll_interval: float = 0.05  # seconds between empty SQS polls
    pages_port: int | None = None  # serve the pages here (when both APIs are served); None: no pages

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def pages_url(self) -> str | None:
        return f"http://{self.host}:{self.pages_port}" if self.pages_port is not None else None


class Gateway:
    """`await start()`, then `await close()`; tests reach the parts (state, wiring) directly."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.wiring: Wiring
        self.state: GatewayState
        self._runners: list[web.AppRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._site: tempfile.TemporaryDirectory[str] | None = None

    @property
    def websocket_url(self) -> str:
        return self.settings.url.replace("http://", "ws://") + "/"

    @property
    def serves_pages(self) -> bool:
        return self._site is not None

    @property
    def endpoints(self) -> Endpoints:
        """Where the pages find this gateway's HTTP API and WebSocket API."""
        assert self.state.websocket_api is not None
        socket = f"{self.websocket_url}{self.state.websocket_api.stage}?game={GAME}"
        return Endpoints(api=self.settings.http_url, socket=socket)

    async def start(self) -> None:
        settings = self.settings
        locale = Locale(
            region=settings.region,
            sqs_endpoint=settings.aws_endpoint,
            api_urls={"WEBSOCKET": settings.url, "HTTP": settings.http_url},
        )
        self.wiring = await asyncio.to_thread(
            read, settings.templates, locale, parameters=settings.parameters, exports=settings.exports
        )
        sqs = boto3.client("sqs", endpoint_url=settings.aws_endpoint, region_name=settings.region)
        # dead-letter queues first: a queue's RedrivePolicy names one that must exist
        for queue in sorted(self.wiring.queues, key=lambda q: "RedrivePolicy" in q.attributes):
            await asyncio.to_thread(sqs.create_queue, QueueName=queue.name, Attributes=queue.attributes)
        runtime = LambdaRuntime(
            self.wiring.functions,
            region=settings.region,
            overrides={**self.local_endpoints(), **settings.environment},
            concurrency=settings.concurrency,
        )
        await asyncio.to_thread(runtime.start)
        self.state = GatewayState(
            runtime=runtime,
            connections=Connections(settings.limits),
            throttle=Throttle(settings.post_rate),
            websocket_api=self.wiring.api("WEBSOCKET"),
            http_api=self.wiring.api("HTTP"),
        )
        await self._serve(self._websocket_app(), settings.port)
        if self.state.http_api is not None:
            app = web.Application(client_max_size=10 * 1024 * 1024)  # the HTTP API's payload limit
            app[GATEWAY] = self.state
            http_api.add_routes(app)
            await self._serve(app, settings.http_port)
        if settings.pages_port is not None:
            await self._serve_pages(settings.pages_port)
        self._tasks.append(asyncio.create_task(self.state.connections.sweep()))
        queue_urls = {queue.arn: queue.url for queue in self.wiring.queues}
        for source in self.wiring.event_sources:
            poller = QueuePoller(
                source,
                queue_urls[source.queue_arn],
                sqs,
                runtime,
                region=settings.region,
                interval=settings.poll_interval,
            )
            self._tasks.append(asyncio.create_task(poller.run()))

    def local_endpoints(self) -> dict[str, str]:
        """Where the handlers' boto3 clients go: moto, or this gateway for Lambda; never AWS."""
        moto = self.settings.aws_endpoint
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": moto,
            "AWS_ENDPOINT_URL_SQS": moto,
            "AWS_ENDPOINT_URL_SSM": moto,
            "AWS_ENDPOINT_URL_LAMBDA": self.settings.url,
            "AWS_REGION": self.settings.region,
            "AWS_DEFAULT_REGION": self.settings.region,
        }

    def _websocket_app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app[GATEWAY] = self.state
        management.add_routes(app)
        invoke.add_routes(app)
        if self.state.websocket_api is not None:
            app.router.add_get("/", websocket.handle)
            app.router.add_get("/{stage}", websocket.handle)
        app.on_shutdown.append(self._close_sockets)
        return app

    async def _close_sockets(self, app: web.Application) -> None:
        for connection in list(self.state.connections.open.values()):
            await connection.close(1001, "Going away")

    async def _serve_pages(self, port: int) -> None:
        if self.state.websocket_api is None or self.state.http_api is None:
            log.warning("no pages: they need a WebSocket API and an HTTP API (realtime.yaml and http.yaml)")
            return
        self._site = tempfile.TemporaryDirectory(prefix="cloud-pages-")
        site = Path(self._site.name) / "site"
        await asyncio.to_thread(build_site, site, self.endpoints)
        await self._serve(pages.app(site, self.endpoints), port)

    async def _serve(self, app: web.Application, port: int) -> None:
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, self.settings.host, port).start()
        self._runners.append(runner)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for runner in self._runners:
            await runner.cleanup()
        if self.state.tasks:
            await asyncio.wait(list(self.state.tasks), timeout=10)
        await self.state.runtime.close()
        if self._site is not None:
            self._site.cleanup()
