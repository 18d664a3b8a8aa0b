"""Messages to sockets through API Gateway's management API, and the fan-out of a broadcast.

Every post is one `post_to_connection` call. A room's posts run on a bounded pool of threads (the
account's 10,000 requests/s throttle is shared by every post of every game); a GoneException means
the phone left without `$disconnect` reaching us, so its connection items are deleted; a
LimitExceededException is the throttle: that post is retried after a pause with full jitter.

A small room is posted to inside the sender's own invocation. A large room never is: its posts go
to the fan-out function, invoked asynchronously (InvocationType=Event) in chunks that fit Lambda's
256 KB async payload, so the sender's ack does not wait for a thousand posts.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

CONCURRENCY = 32  # posts in flight per invocation
ATTEMPTS = 6  # tries of one post while API Gateway throttles
BACKOFF = 0.05  # seconds, at most, before the first retry; doubled each time
INLINE_POSTS = 50  # more posts than this go to the fan-out function
PAYLOAD_BYTES = 200 * 1024  # per async invocation (Lambda's limit is 256 KB)

Posts = list[tuple[str, list[str]]]  # (connection id, frames), frames already JSON text


@dataclass
class Report:
    sent: int = 0
    gone: list[str] = field(default_factory=list)
    throttled: int = 0  # posts retried after a LimitExceededException
    failed: list[str] = field(default_factory=list)


class Poster:
    """Posts frames to connections; the management API client is passed in (any endpoint)."""

    def __init__(
        self,
        client: Any,
        *,
        concurrency: int = CONCURRENCY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.concurrency = concurrency
        self.sleep = sleep

    def post(self, posts: Posts) -> Report:
        report = Report()
        if not posts:
            return report
        with ThreadPoolExecutor(min(self.concurrency, len(posts)), "post") as pool:
            for outcome, connection_id, sent, throttled in pool.map(self._post_frames, posts):
                report.sent += sent
                report.throttled += throttled
                if outcome == "gone":
                    report.gone.append(connection_id)
                elif outcome == "failed":
                    report.failed.append(connection_id)
        return report

    def _post_frames(self, post: tuple[str, list[str]]) -> tuple[str, str, int, int]:
        connection_id, frames = post
        sent = throttled = 0
        for frame in frames:
            attempt = 0
            while True:
                try:
                    self.client.post_to_connection(ConnectionId=connection_id, Data=frame.encode())
                    sent += 1
                    break
                except ClientError as error:
                    code = error.response.get("Error", {}).get("Code", "")
                    if code == "GoneException":
                        return "gone", connection_id, sent, throttled
                    attempt += 1
                    if code != "LimitExceededException" or attempt == ATTEMPTS:
                        log.warning("post to a connection failed: %s", code or error)
                        return "failed", connection_id, sent, throttled
                    throttled += 1
                    self.sleep(random.uniform(0, BACKOFF * 2 ** (attempt - 1)))
        return "ok", connection_id, sent, throttled

    def close(self, connection_id: str) -> None:
        """Close a socket (a kicked player's); one already gone is fine."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "GoneException":
                raise


class Invoker:
    """Asynchronous invocations of the fan-out function."""

    def __init__(self, client: Any, function: str) -> None:
        self.client = client
        self.function = function

    def invoke(self, payload: dict[str, Any]) -> None:
        self.client.invoke(FunctionName=self.function, InvocationType="Event", Payload=json.dumps(payload))


def chunks(posts: Posts, limit: int = PAYLOAD_BYTES) -> list[Posts]:
    """The posts in groups whose JSON stays under `limit` bytes (one async invocation each)."""
    out: list[Posts] = []
    size = 0
    for post in posts:
        weight = len(post[0]) + sum(len(f.encode()) + 4 for f in post[1]) + 8
        if not out or size + weight > limit:
            out.append([])
            size = 0
        out[-1].append(post)
        size += weight
    return out
