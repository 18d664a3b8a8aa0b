"""Who may try a join now: a rate per address, and wrong codes counted per device.

Join codes are only secret while guessing them is slow, so wrong codes are throttled; but a whole
room can share one address (a venue's NAT), and one guesser there must not refuse the right code to
everyone else. So wrong codes spend the tokens of the device that sent them (its id, kept by the
browser; a client without one shares its address's bucket), and every attempt, right or wrong,
spends from its address's much larger bucket, which is what bounds a guesser who makes up a new
device id for every try (docs/operations.md has the figures).
"""

from __future__ import annotations

from dataclasses import dataclass

from web.refusals import Refusals
from web.settings import Limits
from web.throttle import Throttle


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after: int


class Joins:
    def __init__(self, limits: Limits, refusals: Refusals) -> None:
        self.attempts = Throttle(limits.join_burst, limits.joins_per_minute)
        self.wrong = Throttle(limits.wrong_code_burst, limits.wrong_codes_per_minute)
        self.refusals = refusals

    def admit(self, address: str, device: str) -> Refusal | None:
        """Spend one attempt of `address`; a refusal when it or its device has none left."""
        wait = self.attempts.take(address)
        if wait:
            self.refusals.note(address, "joins")
            return Refusal("Too many joins from your address: wait a moment and try again.", wait)
        wait = self.wrong.retry_after(f"{address} {device}")
        if wait:
            self.refusals.note(address, "wrong codes")
            return Refusal("Too many wrong codes: wait a moment and try again.", wait)
        return None

    def wrong_code(self, address: str, device: str) -> None:
        self.wrong.spend(f"{address} {device}")
