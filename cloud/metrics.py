"""The functions' figures as CloudWatch embedded metrics: JSON lines on stdout that CloudWatch Logs turns
into metrics, with no API call and no agent (the Lambda runtime ships stdout to the log group).

The lines go to the logger `cloud.metrics.emf`, which a Lambda container writes to stdout as they
are. The metrics are engagements.telemetry.metrics' (the appliance's Prometheus figures, under the same
names), in the namespace NAMESPACE, with the environment (dev, staging, prod) as a dimension; each
metric's labels are dimensions too, and its rollups add aggregates over fewer of them (so an alarm
can watch every command that failed `internal`, whatever its type). What an invocation records is
kept for that invocation only (a context variable: two invocations in one process never mix) and
written when it ends: one line per metric and label values, a histogram's observations as a list of
at most MAX_VALUES values, as the format allows. The line also carries the invocation's correlation
ids, so a figure leads to its log lines.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from engagements.telemetry.context import current
from engagements.telemetry.metrics import COUNTER, HISTOGRAM, Metric, Telemetry

NAMESPACE = "Engagements"
ENVIRONMENT = "environment"  # the dimension every metric has
MAX_VALUES = 100  # values of one metric in one line, at most (the embedded metric format's limit)


@dataclass
class _Figure:
    metric: Metric
    labels: dict[str, str]
    total: float = 0.0
    values: list[float] = field(default_factory=list)


# In a Lambda container its lines go to stdout as they are (cloud.invocations); elsewhere (make
# cloud-local, tests) they are log records like any other.
emf = logging.getLogger("cloud.metrics.emf")


def dimension_sets(metric: Metric) -> list[list[str]]:
    """The dimension sets CloudWatch keeps the metric under: the environment with each rollup's labels,
    and with all its labels (what the alarms and the dashboard of deploy/monitoring.yaml may ask for)."""
    sets = [[ENVIRONMENT, *rollup] for rollup in metric.rollups]
    if metric.labels and [ENVIRONMENT, *metric.labels] not in sets:
        sets.append([ENVIRONMENT, *metric.labels])
    return sets


class EmbeddedMetrics(Telemetry):
    def __init__(self, environment: str, sink: Callable[[str], None] = emf.info) -> None:
        self.environment = environment
        self.sink = sink
        self._figures: ContextVar[dict[tuple[str, tuple[str, ...]], _Figure] | None] = ContextVar(
            "embedded_metrics", default=None
        )

    @contextlib.contextmanager
    def invocation(self) -> Iterator[None]:
        """Collect what the block records; write it when the block ends, however it ends."""
        figures: dict[tuple[str, tuple[str, ...]], _Figure] = {}
        token = self._figures.set(figures)
        try:
            yield
        finally:
            self._figures.reset(token)
            for line in self.lines(figures.values()):
                self.sink(line)

    def _figure(self, metric: Metric, labels: dict[str, str]) -> _Figure | None:
        figures = self._figures.get()
        if figures is None or not metric.cloud:
            return None  # outside an invocation (a tool): nowhere to write it
        key = (metric.name, tuple(map(labels.__getitem__, metric.labels)))
        figure = figures.get(key)
        if figure is None:
            figure = figures[key] = _Figure(metric, dict(labels))
        return figure

    def count(self, metric: Metric, n: float = 1, **labels: str) -> None:
        figure = self._figure(metric, labels)
        if figure is not None:
            figure.total += n

    def observe(self, metric: Metric, value: float, **labels: str) -> None:
        figure = self._figure(metric, labels)
        if figure is not None:
            figure.values.append(value)

    def lines(self, figures: Any) -> Iterator[str]:
        ids = dict(current())
        now = int(time.time() * 1000)
        for figure in figures:
            metric = figure.metric
            dimensions = dimension_sets(metric)
            if metric.kind == COUNTER:
                chunks: list[float | list[float]] = [figure.total]
            elif metric.kind == HISTOGRAM:
                chunks = [figure.values[i : i + MAX_VALUES] for i in range(0, len(figure.values), MAX_VALUES)]
            else:
                continue
            for value in chunks:
                directive = {
                    "Namespace": NAMESPACE,
                    "Dimensions": dimensions,
                    "Metrics": [{"Name": metric.name, "Unit": metric.unit}],
                }
                line = {
                    "_aws": {"Timestamp": now, "CloudWatchMetrics": [directive]},
                    **ids,
                    ENVIRONMENT: self.environment,
                    **figure.labels,
                    metric.name: value,
                }
                yield json.dumps(line, separators=(",", ":"))
