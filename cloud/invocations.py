"""What every invocation does first and last, whatever the function: its correlation ids bound for its
log lines, its embedded metrics written when it ends, and in a real Lambda container the one logging
setup of both runtimes (engagements.telemetry.logs) in place of the runtime's own.

The ids: `request_id` is API Gateway's request id where there is one (its access log's too), else
Lambda's; `lambda_request_id` is Lambda's (its START, END and REPORT lines'); `connection_id` is the
WebSocket's; `xray_trace_id` is the X-Ray trace Lambda started for the invocation (the stacks turn
tracing on), so a log line leads to its trace and back. X-Ray traces each invocation without code of
ours: the package stays small (no X-Ray SDK), at the price of no subsegments per table call.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from cloud.metrics import emf
from cloud.runtime import runtime
from engagements.telemetry import context
from engagements.telemetry.logs import level_named, setup_logging

R = TypeVar("R")
Handler = Callable[[Any, Any], R]


def in_lambda() -> bool:
    """Run by Lambda's runtime (not by `make cloud-local`'s stand-in, which leaves logging to its host)."""
    return "AWS_LAMBDA_RUNTIME_API" in os.environ


@functools.cache
def _logging() -> None:
    """Once per container: JSON lines on stdout at AWS_LAMBDA_LOG_LEVEL (the stacks' LoggingConfig
    sets it) or LOG_LEVEL, INFO by default."""
    level = level_named(os.environ.get("AWS_LAMBDA_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "info")
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
    setup_logging("json", level, sys.stdout, replace=True, function=function)
    raw = logging.StreamHandler(sys.stdout)  # embedded metrics: the line itself, whatever the level
    raw.setFormatter(logging.Formatter("%(message)s"))
    emf.addHandler(raw)
    emf.setLevel(logging.INFO)
    emf.propagate = False


def ids(event: Any, lambda_context: Any) -> dict[str, str | None]:
    request = event.get("requestContext", {}) if isinstance(event, dict) else {}
    lambda_id = getattr(lambda_context, "aws_request_id", None)
    trace = os.environ.get("_X_AMZN_TRACE_ID", "")
    root = next((part[5:] for part in trace.split(";") if part.startswith("Root=")), None)
    return {
        "request_id": request.get("requestId") or lambda_id,
        "lambda_request_id": lambda_id,
        "connection_id": request.get("connectionId"),
        "xray_trace_id": root,
    }


def observed(handler: Handler[R]) -> Handler[R]:
    """A handler with its ids bound and its metrics written at its end."""

    @functools.wraps(handler)
    def invocation(event: Any, lambda_context: Any) -> R:
        if in_lambda():
            _logging()
        with context.bound(**ids(event, lambda_context)), runtime().telemetry.invocation():
            return handler(event, lambda_context)

    return invocation
