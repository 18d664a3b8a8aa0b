"""How fast one socket may talk, on both runtimes: a token bucket for every message, a smaller one for `sync`.

A phone sends a few messages a minute; a burst (a reconnect replaying its commands) is fine, a flood
is not, and `sync` builds a whole snapshot, so it has its own, smaller bucket. The appliance keeps
the buckets in memory per socket (web/connection.py, its `Limits` can override them). The cloud counts
the same allowance in fixed windows of `window_ms` (30 messages in any 3 s window, 3 syncs in 9 s) on
the connection's reverse item (cloud/connections.py): one atomic conditional write per message, which
parallel invocations for one socket cannot race, where a bucket would need a read and a retry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    burst: int  # tokens when full: messages a socket may send at once
    per_second: float  # tokens added a second

    @property
    def window_ms(self) -> int:
        """The window in which `burst` messages average `per_second`."""
        return round(self.burst / self.per_second * 1000)


MESSAGES = Bucket(burst=30, per_second=10.0)
SYNCS = Bucket(burst=3, per_second=20 / 60)  # 20 a minute
