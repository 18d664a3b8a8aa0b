"""Unexpected exceptions: logged once with where they happened, never with what the client sent.

An exception's message and a frame's locals may hold a token or a player's text, so neither is
logged: the exception's type and the stack (file, line, function, source line) are enough to find
the bug. A client that hits the same bug in a loop gets the same answer every time, but the log gets
the fault once, then a count at most once a minute, so it cannot fill the disk.
"""

from __future__ import annotations

import logging
import time
import traceback

log = logging.getLogger("engagements.faults")

REPEAT_SECONDS = 60.0
MAX_KNOWN = 1000  # distinct faults remembered; a bug that varies its place endlessly is not a real case


class Faults:
    """The faults seen so far, so that each is logged in full once and then only counted."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def unexpected(self, where: str, exc: BaseException) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        key = (type(exc).__name__, place)
        now = time.monotonic()
        if key not in self._seen:
            if len(self._seen) >= MAX_KNOWN:
                self._seen.clear()
            self._seen[key] = (now, 0)
            stack = "".join(traceback.format_list(frames)).rstrip()
            log.error(
                "Unexpected %s while handling %s (its message is left out: it may hold what the client "
                "sent).\nTraceback (most recent call last):\n%s\n%s",
                key[0],
                where,
                stack,
                key[0],
            )
            return
        logged, count = self._seen[key]
        if now - logged < REPEAT_SECONDS:
            self._seen[key] = (logged, count + 1)
            return
        self._seen[key] = (now, 0)
        log.error("Unexpected %s at %s again, %d times in the last minute", key[0], place, count + 1)
