"""The correlation ids of what is being handled now: request, connection, game, command.

Held in a context variable, so every log line written while handling a message carries them without
being handed them: asyncio tasks and `asyncio.to_thread` copy the context they start in, so a
command's store writes (a task started by the command) carry its game and command ids too. Binding
costs one context-variable set, cheap enough for every message; the ids are read only when a line is
actually written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar, Token

# The fields a log line may carry, in the order they are written. None of them is a secret: a token
# or the admin secret is never bound (tests/test_observability.py greps a whole game's lines).
FIELDS = (
    "request_id",
    "lambda_request_id",
    "connection_id",
    "game_id",
    "command_id",
    "command",
    "player_id",
    "xray_trace_id",
    "trace_id",
)

_EMPTY: Mapping[str, str] = {}
_current: ContextVar[Mapping[str, str]] = ContextVar("engagements_correlation", default=_EMPTY)


def current() -> Mapping[str, str]:
    """The ids bound now (never mutated: binding makes a new mapping)."""
    return _current.get()


def bind(**ids: str | None) -> Token[Mapping[str, str]]:
    """Add ids to the current context (None and "" are left out); `reset` with the token undoes it."""
    given = {k: v for k, v in ids.items() if v}
    return _current.set({**_current.get(), **given} if given else _current.get())


def reset(token: Token[Mapping[str, str]]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    token = bind(**ids)
    try:
        yield
    finally:
        _current.reset(token)
