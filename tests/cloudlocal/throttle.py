"""The knob that makes `post_to_connection` answer 429, as API Gateway's account throttle does.

API Gateway shares 10,000 requests a second across an account's `post_to_connection` calls; a fan-out must
back off and retry when it meets the limit. Tests turn this knob to make that happen on demand.
"""

from __future__ import annotations

import time


class Throttle:
    """When `post_to_connection` gets 429: the next `fail_next(n)` calls, and above `rate` calls a second."""

    def __init__(self, rate: float | None = None) -> None:
        self.rate = rate
        self.refused = 0
        self._fail = 0
        self._tokens = rate or 0.0
        self._stamp = time.monotonic()

    def fail_next(self, calls: int) -> None:
        self._fail += calls

    def allow(self) -> bool:
        if self._fail:
            self._fail -= 1
            self.refused += 1
            return False
        if self.rate is None:
            return True
        now = time.monotonic()
        self._tokens = min(self.rate, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        self.refused += 1
        return False
