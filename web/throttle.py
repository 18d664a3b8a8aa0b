"""Token buckets by client key: bursts are fine, a flood is not, and memory stays bounded."""

from __future__ import annotations

import time
from collections.abc import Callable


class Throttle:
    """A token bucket per key (an address, a device): `burst` tokens, refilled at `per_minute`."""

    def __init__(
        self,
        burst: int,
        per_minute: float,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        tokens = self._tokens(key)
        return 0 if tokens >= 1 else int((1 - tokens) / self.rate) + 1

    def spend(self, key: str) -> None:
        if len(self._buckets) >= self.max_clients and key not in self._buckets:
            self._buckets.clear()  # a flood of keys: forget, rather than grow without bound
        self._buckets[key] = (self._tokens(key) - 1, self.clock())

    def take(self, key: str) -> int:
        """Spend a token if there is one: 0, else the seconds to wait (nothing is spent)."""
        wait = self.retry_after(key)
        if not wait:
            self.spend(key)
        return wait

    def _tokens(self, key: str) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), self.clock()))
        return min(float(self.burst), tokens + (self.clock() - at) * self.rate)
