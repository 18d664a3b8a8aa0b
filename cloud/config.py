"""What a function is configured with: its environment, read once per Lambda container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    table: str
    websocket_endpoint: str  # the management API: https://{api}.execute-api.{region}.amazonaws.com/{stage}
    fanout_function: str  # name of the fan-out function, invoked asynchronously for large rooms
    deadline_queue_url: str
    admin_secret: str | None  # for local runs; in AWS it comes from the SSM parameter below
    admin_secret_parameter: str | None
    public_url: str  # where phones open the pages: the base of join URLs in QR codes
    environment: str
    retention_days: int
    # Origins whose pages may open a socket (checked at $connect; a request without `Origin` is no
    # browser's, as on the appliance): the realtime stack's AllowedOrigins, like the HTTP API's CORS.
    allowed_origins: frozenset[str] = frozenset()
    # Webhooks (cloud.webhooks): seconds before a failed delivery's first retry, and whether receivers
    # may be on private or loopback addresses (a local stack's, on the same machine; never in AWS).
    webhook_retry: float = 10.0
    webhook_private: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Config:
        return cls(
            table=env["TABLE_NAME"],
            websocket_endpoint=env.get("WEBSOCKET_ENDPOINT", ""),
            fanout_function=env.get("FANOUT_FUNCTION", ""),
            deadline_queue_url=env.get("DEADLINE_QUEUE_URL", ""),
            admin_secret=env.get("ADMIN_SECRET") or None,
            admin_secret_parameter=env.get("ADMIN_SECRET_PARAMETER") or None,
            public_url=env.get("PUBLIC_URL", "").rstrip("/"),
            environment=env.get("ENVIRONMENT", "dev"),
            retention_days=int(env.get("RETENTION_DAYS", "7")),
            allowed_origins=frozenset(
                o.strip().rstrip("/").lower() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip()
            ),
            webhook_retry=float(env.get("WEBHOOK_RETRY_SECONDS", "10")),
            webhook_private=env.get("WEBHOOK_PRIVATE_TARGETS", "") == "1",
        )
