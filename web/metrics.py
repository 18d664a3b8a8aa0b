"""The appliance's figures for Prometheus: `GET /metrics`, for the admin only.

The counters and histograms of engagements.telemetry.metrics are kept in this app's own registry (one
per application, so two apps in one process never share figures); the gauges are read from the games,
rooms and sockets at scrape time, so keeping them costs the hot path nothing. The process's own
figures (CPU, memory, open files, garbage collections) come with them.

Who may read it: the venue's Wi-Fi is open, and the figures say how many games run, how many phones
are in them and how the appliance copes. So `/metrics` wants the admin secret, as a bearer token,
like the rest of the admin's API (a scraper's `authorization: {credentials_file: data/admin-secret}`),
from any address, loopback included: a reverse proxy on the same machine would otherwise open it to
everyone. docs/operations.md, "Metrics".
"""

from __future__ import annotations

import functools
import json
import math
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.core import Metric as PromMetric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from engagements.model import Game, Rejected
from engagements.store.base import StoreError
from engagements.telemetry.metrics import (
    ACK_LATENCY,
    CATALOGUE,
    COMMANDS,
    CONNECTIONS,
    COUNTER,
    GAMES,
    HISTOGRAM,
    PLAYERS,
    Metric,
    Telemetry,
)
from web.admin import admin_only
from web.keys import TELEMETRY

Span = Callable[..., AbstractContextManager[Any]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApplianceTelemetry(Telemetry):
    """Counters and histograms kept as plain numbers, turned into Prometheus families when scraped, and
    OpenTelemetry spans when tracing is on (web/tracing.py).

    Everything that records runs on the event loop's thread, so an addition needs no lock: a count
    costs a dictionary look-up and an addition, an observation a bisection more (prometheus-client's
    own metric objects take a lock for each value they add to: several times the cost, every command).
    """

    def __init__(self, span: Span | None = None) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self._counts: dict[str, dict[tuple[str, ...], float]] = {}
        self._histograms: dict[str, dict[tuple[str, ...], _Histogram]] = {}
        for metric in CATALOGUE:
            if metric.kind == COUNTER:
                self._counts[metric.name] = {} if metric.labels else {(): 0.0}
            elif metric.kind == HISTOGRAM:
                self._histograms[metric.name] = {} if metric.labels else {(): _Histogram(metric.buckets)}
        self.registry.register(_Collector(self._families))
        self._span = span

    def count(self, metric: Metric, n: float = 1, **labels: str) -> None:
        series = self._counts[metric.name]
        key = tuple(map(labels.__getitem__, metric.labels))  # in the catalogue's order
        series[key] = series.get(key, 0.0) + n

    def observe(self, metric: Metric, value: float, **labels: str) -> None:
        series = self._histograms[metric.name]
        key = tuple(map(labels.__getitem__, metric.labels))  # in the catalogue's order
        histogram = series.get(key)
        if histogram is None:
            histogram = series[key] = _Histogram(metric.buckets)
        histogram.observe(value)

    def span(self, name: str, **attributes: Any) -> AbstractContextManager[Any]:
        return super().span(name) if self._span is None else self._span(name, **attributes)

    def watch(self, collect: Callable[[], Iterable[PromMetric]]) -> None:
        """Gauges computed when Prometheus asks (`collect` runs on the event loop, between messages)."""
        self.registry.register(_Collector(collect))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def _families(self) -> Iterator[PromMetric]:
        """Every counter and histogram of the catalogue, those with nothing counted yet too."""
        for metric in CATALOGUE:
            if metric.kind == COUNTER:
                counter = CounterMetricFamily(metric.name, metric.help, labels=metric.labels)
                for key, value in list(self._counts[metric.name].items()):
                    counter.add_metric(list(key), value)
                yield counter
            elif metric.kind == HISTOGRAM:
                family = HistogramMetricFamily(metric.name, metric.help, labels=metric.labels)
                for key, histogram in list(self._histograms[metric.name].items()):
                    family.add_metric(list(key), histogram.cumulative(), histogram.sum)
                yield family


class _Histogram:
    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        total, out = 0, []
        for bound, n in zip((*self.bounds, math.inf), self.counts, strict=True):
            total += n
            out.append((floatToGoString(bound), total))
        return out


class _Collector(Collector):
    def __init__(self, collect: Callable[[], Iterable[PromMetric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[PromMetric]:
        return self._collect()

    def describe(self) -> Iterable[PromMetric]:
        return []  # computed at each scrape: nothing to check at registration


def live_figures(
    games: Callable[[], Iterable[Game]],
    open_sockets: Callable[[], int],
    audiences: Callable[[], dict[str, int]],
) -> Callable[[], Iterator[PromMetric]]:
    """The gauges: games in memory by status, their seated players by presence, sockets by audience."""

    def collect() -> Iterator[PromMetric]:
        by_status: Counter[str] = Counter()
        players: Counter[str] = Counter()
        for game in games():
            by_status[game.status] += 1
            for pid, player in game.players.items():
                if not player.kicked:
                    players["connected" if pid in game.connected else "away"] += 1
        yield _gauge(GAMES, {status: by_status[status] for status in ("lobby", "playing", "finished")})
        yield _gauge(PLAYERS, {state: players[state] for state in ("connected", "away")})
        sockets = audiences()
        sockets["unauthenticated"] = max(0, open_sockets() - sum(sockets.values()))  # no hello yet
        yield _gauge(CONNECTIONS, sockets)

    return collect


def _gauge(metric: Metric, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(metric.name, metric.help, labels=metric.labels)
    for label, value in values.items():
        family.add_metric([label], value)
    return family


def counted_as(command: str) -> Callable[[Handler], Handler]:
    """An HTTP route that is a command (the join): counted as the sockets' commands are, by outcome
    (`ok`, or its error's code), its latency to the answer, sent once what it did is durable."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def counted(request: web.Request) -> web.StreamResponse:
            telemetry = request.app[TELEMETRY]
            started = time.perf_counter()
            try:
                response = await handler(request)
            except Rejected as e:
                telemetry.count(COMMANDS, type=command, outcome=e.code)
                raise
            except StoreError:
                telemetry.count(COMMANDS, type=command, outcome="internal")
                raise
            if response.status < 400:
                telemetry.count(COMMANDS, type=command, outcome="ok")
                telemetry.observe(ACK_LATENCY, time.perf_counter() - started, type=command)
            else:  # an error the handler answered itself: its body names it
                assert isinstance(response, web.Response) and response.body is not None
                code = json.loads(bytes(response.body))["error"]["code"]  # type: ignore[arg-type]
                telemetry.count(COMMANDS, type=command, outcome=code)
            return response

        return counted

    return wrap


@admin_only
async def metrics(request: web.Request) -> web.Response:
    body = request.app[TELEMETRY].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
