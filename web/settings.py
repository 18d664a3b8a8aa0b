"""The appliance's settings: from command-line options or ENGAGEMENTS_* environment variables."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from engagements import pace
from engagements.deliveries import Retry
from sync.target import Target


@dataclass(frozen=True)
class Limits:
    """Admission control: every limit a client can run into, in one place (docs/operations.md).

    Each is sized so that a venue's honest traffic never meets it (a whole room behind one router
    included) while one client cannot take the appliance from everyone else.
    """

    header_timeout: float = 10.0  # seconds to send a request's headers (and an idle keep-alive's life)
    body_timeout: float = 10.0  # seconds to send a request's body
    linger: float = 1.0  # seconds the unread rest of a refused request's body is read before closing
    connections: int = 20_000  # open connections in all; lowered to fit under the open-file limit
    connections_per_address: int = 256  # open connections from one address (a venue's NAT included)
    joins_per_minute: float = 300.0  # join attempts from one address, after a burst of...
    join_burst: int = 100
    wrong_codes_per_minute: float = 10.0  # wrong join codes from one device (or one address without)
    wrong_code_burst: int = 10
    # WebSocket messages from one socket, and its `sync` requests: engagements.pace, the cloud's too
    messages_per_second: float = pace.MESSAGES.per_second
    message_burst: int = pace.MESSAGES.burst
    syncs_per_minute: float = pace.SYNCS.per_second * 60
    sync_burst: int = pace.SYNCS.burst
    owed_bytes: int = 256 * 1024  # bytes queued for a socket that does not read, past its transport's
    log_every: float = 60.0  # seconds between two log lines about one client's refusals


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 8080
    data_dir: Path = Path("data")
    mdns: bool = True
    mdns_interfaces: list[str] | None = None  # None: every interface, as a venue needs
    public_url: str | None = None  # what the QR code points at, when the detected LAN address is wrong
    name: str = ""  # the mDNS instance name; defaults to one naming this machine
    retention_days: int = 7
    store: str = "sqlite"  # or "dynamodb": serve games straight from the cloud table
    cloud: Target | None = None  # the cloud table, for --store dynamodb and --auto-sync
    auto_sync: bool = False
    sync_interval: float = 30.0  # seconds between background syncs while all is well
    # None: the one kept in the data directory (made at first start). Never in a repr, hence never logged.
    admin_secret: str | None = field(default=None, repr=False)
    certfile: Path | None = None  # with keyfile: serve HTTPS and WSS instead of HTTP and WS
    keyfile: Path | None = None
    trace: str = "none"  # OpenTelemetry spans: none, console or otlp (web/tracing.py)
    limits: Limits = field(default_factory=Limits)
    webhooks: Retry = field(default_factory=Retry)  # webhook attempts: timeout, backoff, how many

    @property
    def instance_name(self) -> str:
        return self.name or f"Engagements on {socket.gethostname()}"

    @property
    def scheme(self) -> str:
        """The URL scheme pages, QR codes and mDNS announce: https once the appliance has a certificate."""
        return "https" if self.certfile is not None else "http"

    @property
    def database(self) -> Path:
        return self.data_dir / "engagements.db"
