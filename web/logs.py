"""The appliance's log: the shared setup (engagements.telemetry.logs: JSON lines with correlation ids,
or escaped text on a terminal), and aiohttp's complaints about requests that are not HTTP counted
rather than logged one by one.
"""

from __future__ import annotations

import logging
import time

from aiohttp.http_exceptions import HttpProcessingError

from engagements.telemetry import logs


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


def setup_logging(fmt: str = "auto", level: int = logging.INFO) -> None:
    """To stderr (the banner with the links goes to stdout); `serve` calls this before anything logs."""
    logs.setup_logging(fmt, level)
    logging.getLogger("aiohttp.server").addFilter(MalformedRequests())
