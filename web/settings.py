"""The appliance's settings: from command-line options or ENGAGEMENTS_* environment variables."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from sync.target import Target


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
