"""Webhook events: what leaves the appliance (or the cloud) about a game, and how a receiver trusts it.

Both runtimes build events and sign them here, so a receiver verifies the appliance's and the cloud's
deliveries with the same few lines (`verify`). An event is a JSON object:

    {"id": "ev…", "type": "game.finished", "created_at": <ms>, "source": "appliance" | "cloud",
     "data": {...}}

The signature travels in one header, `Engagements-Signature: t=<unix seconds>,v1=<hex>`, where the hex
is HMAC-SHA256, keyed by the webhook's secret, of the ASCII timestamp, a full stop, and the body's bytes
exactly as sent. Signing the timestamp with the body lets a receiver refuse a delivery recorded and
played back later (`TOLERANCE`); several `v1` values may appear (a receiver accepts any that matches),
which leaves room to roll a secret over without a gap.

An event names a game and its public outcome, never anything that opens something: no tokens, no
secrets, no device or address hashes, no join code (docs/security.md, "Webhooks").
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from typing import Any
from urllib.parse import urlsplit

from engagements import views
from engagements.codes import new_id
from engagements.model import Game

SIGNATURE_HEADER = "Engagements-Signature"
EVENT_HEADER = "Engagements-Event"  # the event's type, so a receiver can route before parsing
ID_HEADER = "Engagements-Event-Id"  # the same on every retry of one event: what a receiver dedupes by
TOLERANCE = 300  # seconds: a receiver refuses a signature older (or further ahead) than this
SCHEME = "v1"

GAME_FINISHED = "game.finished"
GAME_SYNCED = "game.synced"
TEST = "webhook.test"
EVENTS = (GAME_FINISHED, GAME_SYNCED, TEST)

PODIUM_RANKS = 3
PODIUM_MAX = 10  # rows at most, however many players tie for a place
MAX_URL = 2000
SECRET_BYTES = 32
BROADCAST = ipaddress.IPv4Address("255.255.255.255")


class BadSignature(Exception):
    """A delivery a receiver must refuse; the message says why (for its log, never for the sender)."""


# -- events ----------------------------------------------------------------------------------------------


def new_event(type_: str, data: dict[str, Any], now_ms: int, source: str) -> dict[str, Any]:
    return {"id": new_id("ev", 16), "type": type_, "created_at": now_ms, "source": source, "data": data}


def encode(event: dict[str, Any]) -> str:
    """The body as sent, byte for byte, on every attempt (it is stored, then signed anew each time)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def podium(game: Game) -> list[dict[str, Any]]:
    """The first three places by score, ties sharing one, as the big screen shows them; empty for a game
    that scored nothing (a poll keeps no scores)."""
    ranked = [(rank, p) for rank, p in views.standings(game) if rank <= PODIUM_RANKS and p.score > 0]
    return [{"rank": rank, "nickname": p.nickname, "score": p.score} for rank, p in ranked[:PODIUM_MAX]]


def game_finished(game: Game, now_ms: int, source: str) -> dict[str, Any]:
    """The game's id, title, when it finished, how many played and the podium's nicknames: nothing else."""
    data = {
        "game": {
            "id": game.id,
            "title": game.title,
            "type": game.type,
            "created_at": game.created_at,
            "finished_at": game.finished_at,
            "rounds": len(game.prompts),
            "players": len(game.active_players()),
        },
        "podium": podium(game),
    }
    return new_event(GAME_FINISHED, data, now_ms, source)


def game_synced(meta: dict[str, Any], synced_at: int, now_ms: int, source: str) -> dict[str, Any]:
    """A finished game's verified copy is in the cloud table (from its META item: id, title, times)."""
    data = {
        "game": {
            "id": meta["id"],
            "title": meta["title"],
            "type": meta["type"],
            "finished_at": meta.get("finished_at"),
            "synced_at": synced_at,
        }
    }
    return new_event(GAME_SYNCED, data, now_ms, source)


def test_event(now_ms: int, source: str) -> dict[str, Any]:
    return new_event(TEST, {"message": "A test event sent by the admin: this webhook works."}, now_ms, source)


# -- signatures ------------------------------------------------------------------------------------------


def new_secret() -> str:
    """256 random bits, made by us: a receiver never chooses its own (no weak or reused ones)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},{SCHEME}={_mac(secret, timestamp, body)}"


def verify(secret: str, header: str | None, body: bytes, now: int, tolerance: int = TOLERANCE) -> int:
    """The delivery's timestamp when `header` signs `body` with `secret` within `tolerance` of `now`;
    raises BadSignature otherwise. What a receiver runs before trusting a byte of the body."""
    if not header:
        raise BadSignature(f"no {SIGNATURE_HEADER} header")
    timestamp, macs = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == SCHEME:
            macs.append(value)
    if timestamp is None or not macs:
        raise BadSignature(f"the {SIGNATURE_HEADER} header needs t=<unix seconds> and {SCHEME}=<hex>")
    if abs(now - timestamp) > tolerance:
        raise BadSignature(f"the signature is {now - timestamp} s old: more than {tolerance} s (a replay?)")
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, mac) for mac in macs):
        raise BadSignature("the signature does not match the body (wrong secret, or the body was altered)")
    return timestamp


# -- where events may go ---------------------------------------------------------------------------------


def check_url(raw: Any, *, private: bool = True) -> str:
    """A webhook's URL, or ValueError in words the admin can act on.

    http or https only, a host, no user name or password (they would show wherever the URL does), no
    fragment, and not an address `refusal` rules out. A name is judged by what it resolves to, each time
    a delivery connects (web.deliverer, cloud.webhooks).
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("the webhook URL is missing")
    url = raw.strip()
    if len(url) > MAX_URL or not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError(f"a webhook URL is at most {MAX_URL} printable ASCII characters (no spaces)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        raise ValueError("that is not a URL we can read") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("a webhook URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("a webhook URL must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a webhook URL may not carry a user name or password: the signature authenticates")
    if parts.fragment:
        raise ValueError("a webhook URL has no #fragment")
    refused = host_refusal(parts.hostname, private=private)
    if refused is not None:
        raise ValueError(f"events are never sent to {parts.hostname}: {refused}")
    return url


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    return ip


def address_allowed(address: str, *, private: bool) -> bool:
    """Whether a delivery may connect to `address`, an IP address as text (what a name resolved to)."""
    ip = _ip(address)
    return ip is not None and refusal(ip, private=private) is None


def host_refusal(host: str, *, private: bool) -> str | None:
    """Why no event goes to `host` when it is an IP address; None when it may, or when it is a name
    (a name is judged by what it resolves to, when connecting)."""
    ip = _ip(host)
    return None if ip is None else refusal(ip, private=private)


def refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, *, private: bool) -> str | None:
    """Why no event goes to `ip`, or None when it may.

    Never: link-local (169.254.0.0/16, where cloud metadata services answer; fe80::/10), multicast,
    unspecified, broadcast or reserved addresses. With `private` (the appliance: a venue's scoreboard is
    on its LAN, a test receiver on the laptop itself) loopback and private networks are fine; without it
    (the cloud) only public addresses are.
    """
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or ip == BROADCAST:
        return "not the address of one host"
    if not private and not ip.is_global:
        return "a private or loopback address, which the cloud does not deliver to"
    return None
