"""The appliance's log: one line per message, with what came from outside escaped.

A title, a nickname or a name heard over mDNS may reach a log message; written raw, its control
characters could recolour the admin's terminal or forge a log line. The formatter escapes everything
a terminal would act on in the message (newlines included) and in each line of a traceback. Requests
that are not HTTP at all are counted, not logged one by one.
"""

from __future__ import annotations

import logging
import time

from aiohttp.http_exceptions import HttpProcessingError

from engagements.text import printable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class EscapingFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        return _lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _lines(super().formatStack(stack_info))


class MalformedRequests(logging.Filter):
    """aiohttp logs every request it cannot parse with a traceback, as if it were our fault.

    Bytes that are not HTTP are the client's problem: they get their 400 from aiohttp, and the log
    gets one line a minute saying how many there were, so garbage from the Wi-Fi cannot fill the disk.
    """

    def __init__(self, every: float = 60.0) -> None:
        super().__init__()
        self.every = every
        self.logged = -every
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        self.count += 1
        now = time.monotonic()
        if now - self.logged < self.every:
            return False
        record.msg, record.args = (
            "%d malformed HTTP requests refused (the last: %s)",
            (self.count, exc.message),
        )
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        self.logged, self.count = now, 0
        return True


def _lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


def setup_logging(level: int = logging.WARNING) -> None:
    """Warnings and errors to stderr, escaped; `serve` calls this before anything logs.

    Like `logging.basicConfig`, it leaves a root logger that already has handlers (a test's) alone.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(EscapingFormatter(FORMAT))
    logging.basicConfig(handlers=[handler], level=level)
    logging.getLogger("aiohttp.server").addFilter(MalformedRequests())
