"""OpenTelemetry spans on the appliance: off unless asked for (`serve --trace console|otlp`).

Spans: each HTTP request (`http <route>`), each WebSocket command (`command`, from its arrival to its
ack) and, inside it, each store write (`store.write`), with the game and command ids as attributes;
the trace id goes into the log lines written meanwhile, so a slow ack's lines and its trace find each
other. Off, nothing is created: the hot path pays one `is None`.

`console` writes one JSON object a span to stderr (with the logs); `otlp` sends them over OTLP/HTTP
to `OTEL_EXPORTER_OTLP_ENDPOINT` (a collector, Jaeger, Tempo), and needs
`pip install opentelemetry-exporter-otlp-proto-http`, which the appliance does not carry by default.
The provider is this app's own, never OpenTelemetry's global one, so two apps in a process (tests)
keep their spans apart.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import IO, Any

from engagements import __version__
from engagements.telemetry import context

EXPORTERS = ("none", "console", "otlp")


class TracingError(Exception):
    """Tracing was asked for and cannot be set up; the message says what to install or set."""


class Tracing:
    def __init__(self, exporter: str = "none", stream: IO[str] | None = None) -> None:
        self._provider: Any = None
        self._tracer: Any = None
        if exporter == "none":
            return
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        if exporter == "console":
            out = stream if stream is not None else sys.stderr
            sink: Any = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
        elif exporter == "otlp":
            sink = _otlp()
        else:
            raise TracingError(f"--trace {exporter!r}: one of {', '.join(EXPORTERS)}")
        resource = Resource.create({"service.name": "engagements", "service.version": __version__})
        self._provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self._provider.add_span_processor(BatchSpanProcessor(sink))
        self._tracer = self._provider.get_tracer("engagements")

    @property
    def on(self) -> bool:
        return self._tracer is not None

    @contextlib.contextmanager
    def span(self, name: str, **attributes: Any) -> Iterator[Any]:
        """A span, current while the block runs (tasks started inside are its children)."""
        with self._tracer.start_as_current_span(name, attributes=attributes) as span:
            token = context.bind(trace_id=format(span.get_span_context().trace_id, "032x"))
            try:
                yield span
            finally:
                context.reset(token)

    def close(self) -> None:
        """Send the spans still batched (at shutdown)."""
        if self._provider is not None:
            self._provider.shutdown()


def _otlp() -> Any:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise TracingError(
            "--trace otlp needs the OTLP exporter: pip install opentelemetry-exporter-otlp-proto-http"
        ) from None
    return OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS configure it
