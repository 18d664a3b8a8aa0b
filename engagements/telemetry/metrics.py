"""The figures both runtimes keep, named once: the appliance serves them to Prometheus (web/metrics.py),
the Lambda functions write them as CloudWatch embedded metrics (cloud/metrics.py), under these names.

A name is the Prometheus family's and the CloudWatch metric's (a counter's Prometheus samples add
`_total`). Labels are Prometheus labels and CloudWatch dimensions; every value they take is bounded
(a command type the server does not know is counted as `other`), so neither side grows a series per
client. Gauges of what is in memory are the appliance's only: a Lambda function holds no game.

Recording costs a dictionary look-up and an addition: the hot path calls it for every command.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from engagements.engine import HOST_COMMANDS, SYSTEM_COMMANDS
from engagements.types import Types

COUNTER, HISTOGRAM, GAUGE = "counter", "histogram", "gauge"
SECONDS, COUNT = "Seconds", "Count"  # CloudWatch's units

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
WRITE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
FANOUT_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str
    help: str
    labels: tuple[str, ...] = ()
    unit: str = COUNT
    buckets: tuple[float, ...] = ()
    # Label subsets CloudWatch also aggregates over (each with the environment); all labels always.
    rollups: tuple[tuple[str, ...], ...] = ((),)
    cloud: bool = True  # the Lambda functions emit it


COMMANDS = Metric(
    "engagements_commands",
    COUNTER,
    "Commands handled, by type and outcome (ok, or the error code the sender got).",
    ("type", "outcome"),
    rollups=((), ("outcome",)),
)
ACK_LATENCY = Metric(
    "engagements_ack_latency_seconds",
    HISTOGRAM,
    "From a command's arrival to its ack, sent once what it changed is durable.",
    ("type",),
    SECONDS,
    LATENCY_BUCKETS,
)
FANOUT_RECIPIENTS = Metric(
    "engagements_fanout_recipients",
    HISTOGRAM,
    "Sockets one command's messages were sent to.",
    buckets=FANOUT_BUCKETS,
)
FANOUT_LATENCY = Metric(
    "engagements_fanout_seconds",
    HISTOGRAM,
    "Time to frame and send one command's messages to every socket that gets them.",
    unit=SECONDS,
    buckets=LATENCY_BUCKETS,
)
STORE_WRITE_LATENCY = Metric(
    "engagements_store_write_seconds",
    HISTOGRAM,
    "One transaction of a command's writes, from submitting it to its being durable.",
    unit=SECONDS,
    buckets=WRITE_BUCKETS,
)
HTTP_REQUESTS = Metric(
    "engagements_http_requests",
    COUNTER,
    "HTTP requests, by route and status class (2xx, 3xx, 4xx, 5xx).",
    ("route", "status"),
    rollups=((), ("status",)),
)
CONNECTIONS_OPENED = Metric("engagements_connections_opened", COUNTER, "WebSocket connections opened.")
CONNECTIONS_CLOSED = Metric("engagements_connections_closed", COUNTER, "WebSocket connections closed.")
GAMES_CREATED = Metric("engagements_games_created", COUNTER, "Games created.")
GAMES_FINISHED = Metric(
    "engagements_games_finished", COUNTER, "Games that reached their podium or were ended."
)
SYNC_GAMES = Metric(
    "engagements_sync_games",
    COUNTER,
    "Finished games the background sync handled, by result (synced, failed).",
    ("result",),
    cloud=False,
)
SYNC_RUNS = Metric(
    "engagements_sync_runs",
    COUNTER,
    "Background sync runs, by result (ok, or failed: offline, or a game failed).",
    ("result",),
    cloud=False,
)
CONNECTIONS = Metric(
    "engagements_connections",
    GAUGE,
    "Sockets open now, by audience (board: host consoles and big screens; phones).",
    ("audience",),
    cloud=False,
)
GAMES = Metric("engagements_games", GAUGE, "Games in memory, by status.", ("status",), cloud=False)
PLAYERS = Metric(
    "engagements_players",
    GAUGE,
    "Players seated in the games in memory (kicked ones aside), by whether a phone of theirs is connected.",
    ("state",),
    cloud=False,
)

CATALOGUE: tuple[Metric, ...] = (
    COMMANDS,
    ACK_LATENCY,
    FANOUT_RECIPIENTS,
    FANOUT_LATENCY,
    STORE_WRITE_LATENCY,
    HTTP_REQUESTS,
    CONNECTIONS_OPENED,
    CONNECTIONS_CLOSED,
    GAMES_CREATED,
    GAMES_FINISHED,
    SYNC_GAMES,
    SYNC_RUNS,
    CONNECTIONS,
    GAMES,
    PLAYERS,
)
OTHER = "other"  # the `type` of a command nobody declares


def command_names(types: Types) -> frozenset[str]:
    """Every command type a `type` label may name: the core's and each installed type's own."""
    return (
        HOST_COMMANDS
        | SYSTEM_COMMANDS
        | frozenset().union(*(kind.commands | kind.host_commands for kind in types.values()))
    )


_NOTHING: AbstractContextManager[Any] = contextlib.nullcontext()


class Telemetry:
    """Where a runtime's figures and spans go. This one drops them: for tools and tests that keep none.

    The appliance's (web/metrics.py) keeps Prometheus figures and, when tracing is on, OpenTelemetry
    spans; the Lambda functions' (cloud/metrics.py) writes embedded metrics at the end of each
    invocation (X-Ray traces the invocation itself).
    """

    def count(self, metric: Metric, n: float = 1, **labels: str) -> None:
        """Add `n` to a counter."""

    def observe(self, metric: Metric, value: float, **labels: str) -> None:
        """One observation of a histogram (seconds for a latency)."""

    def span(self, name: str, **attributes: Any) -> AbstractContextManager[Any]:
        """A traced span around a piece of work, where tracing is on."""
        return _NOTHING
