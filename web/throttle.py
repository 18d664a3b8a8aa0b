"""Per-client throttling of join-code guesses: a code is only secret while guessing it is slow."""

from __future__ import annotations

import time


class Throttle:
    """A token bucket per client address; only failed attempts spend tokens."""

    def __init__(self, burst: int = 10, per_minute: float = 10.0, max_clients: int = 10_000) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again; 0 when it may now."""
        tokens = self._tokens(client)
        return 0 if tokens >= 1 else int((1 - tokens) / self.rate) + 1

    def failed(self, client: str) -> None:
        if len(self._buckets) >= self.max_clients and client not in self._buckets:
            self._buckets.clear()  # a flood of addresses: forget, rather than grow without bound
        self._buckets[client] = (self._tokens(client) - 1, time.monotonic())

    def _tokens(self, client: str) -> float:
        tokens, at = self._buckets.get(client, (float(self.burst), time.monotonic()))
        return min(float(self.burst), tokens + (time.monotonic() - at) * self.rate)
