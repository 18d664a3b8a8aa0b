"""The serverless timer: an SQS message delayed until the phase's deadline (or a coalesced update's turn).

Why SQS: a phase lasts 5 to 600 s, within SQS's 900 s delay, and a delayed message costs one request
($0.40 per million) with no resource to create or delete per phase. SQS delivers a delayed message
at or after its delay, to the second (DelaySeconds is whole seconds, rounded up here), plus the
Lambda poller's latency; EventBridge Scheduler is precise to about a minute's window unless
`FlexibleTimeWindow` is off, and needs a schedule created and deleted per phase; Step Functions
waits precisely but costs a state transition each ($25 per million) and an execution per phase.
docs/cloud.md weighs them. A deadline that fires early (clock skew between invocations) or twice
does no harm: the engine's tick checks the clock, and answers are judged by their arrival time
(`requestContext.requestTimeEpoch`), not by when the timer ran.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from engagements import jsondoc

MAX_DELAY = 900  # SQS's longest delay, seconds


class Deadlines:
    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def schedule(self, game_id: str, deadline: int, now_ms: int) -> int:
        """Queue the tick of `deadline` (ms); returns the delay in seconds."""
        delay = min(MAX_DELAY, max(0, math.ceil((deadline - now_ms) / 1000)))
        self._send({"game_id": game_id, "deadline": deadline}, delay)
        return delay

    def update(self, game_id: str, update: str, delay_ms: int) -> None:
        """Queue a coalesced update of the game (cloud.coalesce: ROOM or PROGRESS)."""
        self._send({"game_id": game_id, "update": update}, math.ceil(delay_ms / 1000))

    def webhook(self, pk: str, sk: str, at: int, now_ms: int) -> None:
        """Queue an attempt of the webhook delivery at (`pk`, `sk`), due at `at` (ms; cloud.webhooks)."""
        delay = min(MAX_DELAY, max(0, math.ceil((at - now_ms) / 1000)))
        self._send({"webhook": [pk, sk], "at": at}, delay)

    def _send(self, message: dict[str, Any], delay: int) -> None:
        body = json.dumps(message)
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=delay)


@dataclass(frozen=True)
class Timer:
    """A queued message: the tick of a phase's `deadline`, or (deadline None) a coalesced update
    (`update`: ROOM, or a ranked round's PROGRESS)."""

    game_id: str
    deadline: int | None
    update: str = "ROOM"


@dataclass(frozen=True)
class Due:
    """A queued message: attempt the webhook delivery at (`pk`, `sk`) once `at` (ms) has come."""

    pk: str
    sk: str
    at: int


def parse(body: str) -> Timer | Due:
    message = jsondoc.loads(body)
    if "webhook" in message:
        pk, sk = message["webhook"]
        return Due(str(pk), str(sk), int(message["at"]))
    deadline = message.get("deadline")
    update = str(message.get("update", "ROOM"))
    return Timer(str(message["game_id"]), None if deadline is None else int(deadline), update)
