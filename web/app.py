"""The application factory: settings in, an aiohttp Application with its store, games and hub out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp_jinja2
from aiohttp import web

from engagements.plugins import load_types
from engagements.service import Games
from engagements.store.base import Store, StoreError
from engagements.store.sqlite import SQLiteStore
from engagements.types import EngagementType
from sync.auto import AutoSync
from sync.cloud import GameReport
from sync.target import open_cloud
from web.admin import Admin, load_secret
from web.collector import Collector
from web.connection import Outbox
from web.correlation import correlate
from web.deadlines import Deadlines
from web.dispatch import Dispatcher
from web.faults import Faults
from web.gate import Gate, body_deadline, connection_cap, file_limit
from web.health import Health
from web.joins import Joins
from web.keys import (
    ADMIN,
    FAULTS,
    GAMES,
    GATE,
    HEALTH,
    JOINS,
    ORIGINS,
    REFUSALS,
    ROOMS,
    SETTINGS,
    SOCKETS,
    STORE,
    TELEMETRY,
    WEBHOOKS,
)
from web.metrics import ApplianceTelemetry, live_figures
from web.network import join_base_url
from web.origin import Origins, same_origin
from web.pages import template_options
from web.refusals import Refusals
from web.rooms import Rooms
from web.routes import errors_and_headers, setup_routes
from web.settings import Settings
from web.tracing import Tracing
from web.turns import Turns
from web.webhook_routes import setup_webhook_routes
from web.webhooks import attach_webhooks
from web.websocket import Sockets

log = logging.getLogger(__name__)

TTL_SWEEP_SECONDS = 3600
MAX_BODY = 512 * 1024


def create_app(settings: Settings, extra_types: tuple[type[EngagementType], ...] = ()) -> web.Application:
    """The appliance's application; raises AdminSecretError when the admin secret is unusable."""
    limits = settings.limits
    app = web.Application(
        middlewares=[correlate, errors_and_headers, same_origin, body_deadline(limits.body_timeout)],
        client_max_size=MAX_BODY,
    )
    app[SETTINGS] = settings
    tracing = Tracing(settings.trace)
    app[TELEMETRY] = ApplianceTelemetry(tracing.span if tracing.on else None)
    app[HEALTH] = Health(settings.mdns)
    app[ADMIN] = Admin(load_secret(settings.data_dir, settings.admin_secret))
    app[ORIGINS] = Origins(settings.public_url)
    app[FAULTS] = Faults()
    app[REFUSALS] = refusals = Refusals(limits.log_every)
    app[JOINS] = Joins(limits, refusals)
    cap = connection_cap(limits.connections, file_limit())
    app[GATE] = Gate(cap, limits.connections_per_address, refusals)
    types = load_types(extra_types)
    aiohttp_jinja2.setup(app, **template_options())
    setup_routes(app, types)
    setup_webhook_routes(app)
    app.cleanup_ctx.append(_storage(types))
    app.on_shutdown.append(_close_sockets)
    app.on_cleanup.append(lambda _: asyncio.to_thread(tracing.close))
    return app


def _storage(types: dict[str, EngagementType]):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        telemetry = app[TELEMETRY]
        store = await open_store(settings)
        outbox = Outbox()
        rooms = Rooms(outbox, Collector(), telemetry)
        games = Games(
            store,
            types,
            join_base=join_base_url(settings.public_url, settings.host, settings.port, settings.scheme),
            retention_days=settings.retention_days,
            on_evict=rooms.evicted,
            telemetry=telemetry,
        )
        turns = Turns()
        deadlines = Deadlines(games, rooms, turns)
        dispatcher = Dispatcher(games, rooms, deadlines, app[REFUSALS], turns, telemetry)
        app[STORE], app[GAMES], app[ROOMS] = store, games, rooms
        app[SOCKETS] = sockets = Sockets(dispatcher, outbox, settings.limits)
        app[HEALTH].store = store
        telemetry.watch(live_figures(games.in_memory, lambda: len(sockets.open), rooms.audience_counts))
        # Before any game resumes: a deadline that passed while the appliance was off may finish one.
        app[WEBHOOKS], deliverer = await attach_webhooks(store, games, settings.webhooks)
        await deadlines.resume()
        tasks = [asyncio.create_task(deliverer.run())]
        if isinstance(store, SQLiteStore):
            tasks.append(asyncio.create_task(_sweep(store)))
        auto = None
        if settings.auto_sync and settings.cloud is not None:

            def synced(report: GameReport, at: int) -> None:
                deliverer.nudge()  # its game.synced deliveries were saved with the mark
                game = games.synced(report.game_id, at)
                if game is not None:
                    rooms.refresh(game, lambda conn: dispatcher.snapshot(game, conn))

            auto = AutoSync(
                store,
                settings.cloud,
                types,
                retention_days=settings.retention_days,
                clock=games.clock,
                on_synced=synced,
                interval=settings.sync_interval,
                telemetry=telemetry,
            )
            games.on_finished = auto.nudge
            tasks.append(asyncio.create_task(auto.run()))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if auto is not None:
            await auto.close()
        deadlines.close()
        await rooms.close()
        await games.close()
        await store.close()

    return ctx


async def open_store(settings: Settings) -> Store:
    """The embedded store by default; the cloud table itself with --store dynamodb."""
    if settings.store == "dynamodb":
        if settings.cloud is None:
            raise StoreError("--store dynamodb needs --table or --stack")
        return await open_cloud(settings.cloud)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return await SQLiteStore.open(settings.database)


async def _sweep(store: SQLiteStore) -> None:
    """Delete expired items now and then, as DynamoDB's TTL does (reads already skip them)."""
    while True:
        try:
            await store.purge_expired()
        except Exception:
            log.exception("TTL sweep failed")
        await asyncio.sleep(TTL_SWEEP_SECONDS)


async def _close_sockets(app: web.Application) -> None:
    if SOCKETS in app:
        await app[SOCKETS].close()
