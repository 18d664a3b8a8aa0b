"""The appliance's log: one line per message, with what came from outside escaped.

A title, a nickname or a name heard over mDNS may reach a log message; written raw, its control
characters could recolour the admin's terminal or forge a log line. The formatter escapes everything
a terminal would act on in the message (newlines included) and in each line of a traceback.
"""

from __future__ import annotations

import logging

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


def _lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


def setup_logging(level: int = logging.WARNING) -> None:
    """Warnings and errors to stderr, escaped; `serve` calls this before anything logs.

    Like `logging.basicConfig`, it leaves a root logger that already has handlers (a test's) alone.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(EscapingFormatter(FORMAT))
    logging.basicConfig(handlers=[handler], level=level)
