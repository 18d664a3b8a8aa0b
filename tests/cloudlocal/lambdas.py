"""Lambda, in process: handlers imported by their `Handler` string and run in a thread pool.

One invocation per event, each with a fresh context object, like Lambda's Python runtime gives. The
functions' environment variables go into this process's environment once, at start: threads cannot have
environments of their own, so two functions that give one variable different values are refused rather
than silently sharing one of them.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import logging
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .intrinsics import PSEUDO_ACCOUNT, TemplateError
from .template import Function

log = logging.getLogger(__name__)


@dataclass
class LambdaContext:
    """The parts of Lambda's context object handlers use (powertools reads these too)."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float  # time.monotonic() when Lambda would stop the invocation
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class Outcome:
    """What one invocation gave: the handler's return value, or the error Lambda would report."""

    result: Any = None
    error: dict[str, Any] | None = None  # {"errorMessage", "errorType", "stackTrace"} as Lambda shapes it
    request_id: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Invocation:
    """The invocation a thread is working for: `INVOCATION.get()` inside a handler and whatever it runs
    with the context copied (its asyncio tasks, `asyncio.to_thread`, the DynamoDB store's threads), so
    instrumentation such as a bench's botocore hooks can charge each call to its command."""

    function: str
    event: Any
    request_id: str


INVOCATION: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("invocation", default=None)


@dataclass
class Invocations:
    """Counts per function, so tests and benches can say "one invocation per command", the seconds
    they ran (this machine's, in one shared process: not what Lambda would bill) and how many passed
    their timeout."""

    by_function: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    timed_out: dict[str, str] = field(default_factory=dict)  # request id -> function, past its timeout

    def add(self, name: str) -> None:
        self.by_function[name] = self.by_function.get(name, 0) + 1

    def ran(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


class LambdaRuntime:
    """Runs the templates' functions; `invoke` is the only way in, for every event source alike."""

    def __init__(
        self,
        functions: Mapping[str, Function],
        *,
        region: str,
        overrides: Mapping[str, str],
        concurrency: int = 32,
    ) -> None:
        self.functions = dict(functions)
        self.region = region
        self.environment = shared_environment(functions.values(), overrides)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="lambda")
        self.counts = Invocations()
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._saved: dict[str, str | None] = {}
        self._background: set[asyncio.Task[Outcome]] = set()

    def start(self) -> None:
        """Sets the environment and imports every handler, so a bad `Handler` fails at start, not at use."""
        for name, value in self.environment.items():
            self._saved[name] = os.environ.get(name)
            os.environ[name] = value
        for function in self.functions.values():
            self._handlers[function.name] = load_handler(function.handler)

    async def close(self) -> None:
        for task in list(self._background):
            await asyncio.wait([task], timeout=5)
        # An invocation past its timeout runs on in its thread. It must end before the environment
        # that points its boto3 clients at moto is taken back: a client it made after that would go
        # to AWS (seen: a deadline invocation resolving dynamodb.us-east-1.amazonaws.com, and its
        # retries' jitter drawing from `random` under a later test's Hypothesis run).
        await asyncio.to_thread(self.pool.shutdown, wait=True, cancel_futures=True)
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def resolve(self, name_or_arn: str) -> Function | None:
        """A function by name, ARN or partial ARN (`function:NAME`), as Lambda's API accepts."""
        name = name_or_arn.split(":function:")[-1].split(":")[0] if ":" in name_or_arn else name_or_arn
        return self.functions.get(name)

    async def invoke(self, name: str, event: Any) -> Outcome:
        """Runs one invocation in the pool and waits at most the function's timeout for it."""
        function = self.functions[name]
        request_id = str(uuid.uuid4())
        context = LambdaContext(
            function_name=function.name,
            memory_limit_in_mb=function.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{PSEUDO_ACCOUNT}:function:{function.name}",
            aws_request_id=request_id,
            deadline=time.monotonic() + function.timeout,
            log_group_name=f"/aws/lambda/{function.name}",
        )
        self.counts.add(name)
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        current = Invocation(name, event, request_id)
        future = loop.run_in_executor(self.pool, _run, self._handlers[name], event, context, current)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(future), function.timeout)
        except TimeoutError:
            # A thread cannot be stopped: it runs on, but its result is dropped as Lambda's would be.
            message = f"Task timed out after {function.timeout:.2f} seconds"
            self.counts.timed_out[request_id] = name
            log.warning("%s: %s", name, message)
            outcome = Outcome(error={"errorMessage": message, "errorType": "Sandbox.Timedout"})
        outcome.request_id = request_id
        self.counts.ran(name, time.monotonic() - started)
        return outcome

    def invoke_in_background(self, name: str, event: Any) -> None:
        """An asynchronous invocation (`InvocationType=Event`): accepted now, run later, errors logged."""
        task = asyncio.get_running_loop().create_task(self.invoke(name, event))
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Outcome]) -> None:
        self._background.discard(task)
        if not task.cancelled() and not task.result().ok:
            log.warning("asynchronous invocation failed: %s", task.result().error)


def _run(
    handler: Callable[[Any, Any], Any], event: Any, context: LambdaContext, current: Invocation
) -> Outcome:
    def call() -> Any:
        INVOCATION.set(current)
        return handler(event, context)

    try:
        return Outcome(result=contextvars.copy_context().run(call))
    except Exception as exc:
        log.exception("%s raised", context.function_name)
        return Outcome(
            error={
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "stackTrace": traceback.format_exception(exc)[1:],
            }
        )


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """`package.module.function`, imported from this repository as Lambda would from the code zip."""
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise TemplateError(f"Handler {handler!r} is not module.function")
    return getattr(importlib.import_module(module_name), attribute)


def shared_environment(functions: Iterable[Function], overrides: Mapping[str, str]) -> dict[str, str]:
    """The union of the functions' variables, then `overrides`.

    A variable two functions disagree on is refused, unless overridden.
    """
    merged: dict[str, tuple[str, str]] = {}
    for function in functions:
        for name, value in function.environment.items():
            if name in overrides:
                continue
            if name in merged and merged[name][1] != value:
                raise TemplateError(
                    f"{name} is {merged[name][1]!r} for {merged[name][0]} but {value!r} for {function.name}: "
                    "in-process functions share one environment (override it to one value)"
                )
            merged[name] = (function.name, value)
    return {**{name: value for name, (_, value) in merged.items()}, **overrides}
