"""The log of refusals: one line per client per interval, however many times it was refused.

A client that hits a limit thousands of times a second must not fill the disk with as many lines
(a flood once wrote 63,000 tracebacks in 15 s): the first refusal is logged at once, the others are
counted and reported, by limit, in the client's next line, at most one `interval` later.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("engagements.refusals")


@dataclass
class _Client:
    logged_at: float
    counts: Counter[str] = field(default_factory=Counter)


class Refusals:
    def __init__(
        self,
        interval: float = 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.interval = interval
        self.max_clients = max_clients
        self.clock = clock
        self.log = logger
        self._clients: dict[str, _Client] = {}

    def note(self, client: str, limit: str) -> None:
        """`client` (an address) was refused by `limit` (a short name such as "connections")."""
        now = self.clock()
        seen = self._clients.get(client)
        if seen is not None and now - seen.logged_at < self.interval:
            seen.counts[limit] += 1
            return
        if seen is None and len(self._clients) >= self.max_clients:
            self._forget(now)
        counts = seen.counts if seen is not None else Counter()
        counts[limit] += 1
        what = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
        since = "since its last line" if seen is not None else "first"
        self.log.warning("refused %s: %s (%s; at most one line per %d s)", client, what, since, self.interval)
        self._clients[client] = _Client(now)

    def _forget(self, now: float) -> None:
        """Drop the quiet clients (the next refusal of one is logged at once, as a first one)."""
        self._clients = {c: s for c, s in self._clients.items() if now - s.logged_at < self.interval}
        if len(self._clients) >= self.max_clients:
            self._clients.clear()
