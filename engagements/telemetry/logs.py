"""Log lines, the same on both runtimes: one JSON object a line with the correlation ids, or text for a
person reading a terminal.

JSON (python-json-logger) is what a log pipeline wants: `journalctl -o cat | jq`, CloudWatch Logs
Insights, Loki. Each line has `time`, `level`, `logger`, `message` and the ids bound while it was
written (`context.FIELDS`: request, connection, game, command). Text is the console's: the same line
as before, the ids after it, and everything a terminal would act on escaped (a title or a nickname
can reach a message). JSON escapes control characters by itself.

No line carries a token or a secret: the code never logs one, and a field whose name says it holds
one (`token`, `secret`, `authorization`...) is written as `[redacted]` whatever its value, should
anyone ever pass one in `extra`.

Our own loggers (`engagements`, `web`, `cloud`, `sync`) log at the level asked for; everything else
at WARNING, so `--log-level debug` never turns on botocore's dumps of whole requests (which would hold
the items, token hashes and all), nor its chatter at INFO.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

from engagements.telemetry.context import FIELDS, current
from engagements.text import printable

OURS = ("engagements", "web", "cloud", "sync")
FORMATS = ("auto", "json", "text")
REDACTED = "[redacted]"
_SECRET_WORDS = ("token", "secret", "password", "authorization", "cookie", "credential")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}


def _redacted(key: str) -> bool:
    folded = key.lower()
    return any(word in folded for word in _SECRET_WORDS)


class JsonLines(JsonFormatter):
    """One JSON object a line: time, level, logger, message, the bound ids, and any `extra` fields."""

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "error"},
            static_fields=static or {},
            timestamp="time",
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for key, value in current().items():
            log_data.setdefault(key, value)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key in log_data:
            if _redacted(key):
                log_data[key] = REDACTED
        return log_data


class TextLines(logging.Formatter):
    """The console's line, escaped, with the bound ids at its end (`[game_id=… command_id=…]`)."""

    def __init__(self, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        line = super().formatMessage(record)
        bound = current()
        ids = {k: getattr(record, k, None) or bound.get(k) for k in FIELDS}
        shown = " ".join(f"{k}={printable(str(v))}" for k, v in ids.items() if v)
        return f"{line} [{shown}]" if shown else line

    def formatException(self, ei: Any) -> str:
        return _lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _lines(super().formatStack(stack_info))


def _lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


def log_handler(fmt: str = "json", stream: IO[str] | None = None, **static: Any) -> logging.Handler:
    """A handler writing `fmt` lines to `stream` (stderr by default). `auto`: text on a terminal, else
    JSON (systemd's journal, a file, a pipe). `static` fields go on every JSON line."""
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: one of {', '.join(FORMATS)}")
    out = stream if stream is not None else sys.stderr
    if fmt == "auto":
        fmt = "text" if out.isatty() else "json"
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines(static) if fmt == "json" else TextLines())
    return handler


def set_levels(level: int) -> dict[str, int]:
    """Our loggers at `level`, the root (everyone else's) at WARNING or quieter; returns the levels it
    replaced."""
    root = logging.getLogger()
    before = {"": root.level, **{name: logging.getLogger(name).level for name in OURS}}
    root.setLevel(max(level, logging.WARNING))
    for name in OURS:
        logging.getLogger(name).setLevel(level)
    return before


def restore_levels(before: dict[str, int]) -> None:
    for name, level in before.items():
        logging.getLogger(name or None).setLevel(level)


def setup_logging(
    fmt: str = "auto",
    level: int = logging.INFO,
    stream: IO[str] | None = None,
    *,
    replace: bool = False,
    **static: Any,
) -> logging.Handler | None:
    """The one setup of both runtimes: `serve` calls it before anything logs, a Lambda container once.

    Like `logging.basicConfig`, it leaves a root logger that already has handlers (a test's) alone,
    unless `replace` (Lambda's runtime installs a handler of its own, whose lines we replace).
    """
    root = logging.getLogger()
    if root.handlers and not replace:
        return None
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = log_handler(fmt, stream, **static)
    root.addHandler(handler)
    set_levels(level)
    return handler


def level_named(name: str) -> int:
    """`debug`, `info`, `warning` or `error` (any case; Lambda's `WARN` too) as a logging level."""
    try:
        return LEVELS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"log level {name!r}: one of debug, info, warning, error") from None
