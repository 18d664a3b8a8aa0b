"""The appliance's admin: one secret that creates games and lists them, kept in the data directory.

Players join with a code and never need it; only the host console does. The secret travels in an
``Authorization: Bearer`` header, never in a cookie, so another site cannot make a browser send it,
and the console link ``serve`` prints (for a secret it made; a chosen one is never shown) carries it
after ``#``, which browsers never send to a server, so it reaches no server log.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from web.keys import ADMIN
from web.throttle import Throttle

SECRET_FILE = "admin-secret"
MIN_LENGTH = 12  # a chosen secret shorter than this is refused: the throttle slows guessing, not enough
GENERATED_BYTES = 18  # 144 random bits, 24 characters: beyond guessing, short enough to type

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AdminSecretError(Exception):
    """The admin secret cannot be read, made or accepted; the message says what to do."""


def load_secret(data_dir: Path, given: str | None = None) -> str:
    """The secret to use: ``given`` (from --admin-secret) or the data directory's, made on first start.

    The file is created with mode 0600 and tightened to it if someone loosened it: it opens every game.
    """
    if given is not None:
        return _acceptable(given.strip(), "--admin-secret")
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
        return _acceptable(path.read_text(encoding="utf-8").strip(), str(path))
    except OSError as e:
        raise AdminSecretError(f"cannot create {path}: {e.strerror}") from None
    secret = secrets.token_urlsafe(GENERATED_BYTES)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
    return secret


def _acceptable(secret: str, source: str) -> str:
    if len(secret) < MIN_LENGTH:
        raise AdminSecretError(
            f"the admin secret from {source} is shorter than {MIN_LENGTH} characters: choose a longer one"
            + (", or delete the file to have a new one made" if source != "--admin-secret" else "")
        )
    return secret


class Admin:
    """Checks requests for the admin secret, in constant time, throttling wrong guesses per address."""

    def __init__(self, secret: str) -> None:
        self._digest = _digest(secret)
        self._fragment = f"#admin={quote(secret, safe='')}"
        self._throttle = Throttle(burst=10, per_minute=10)

    def __repr__(self) -> str:  # the secret never lands in a log or a traceback's locals
        return "Admin(secret=<hidden>)"

    def console_link(self, base: str) -> str:
        """The host console's address with the secret after ``#``: the page keeps it, no server sees it."""
        return f"{base}/host{self._fragment}"

    def refusal(self, request: web.Request) -> web.Response | None:
        """None when the request carries the secret; else the 401 (or 429 after many wrong ones)."""
        client = request.remote or "?"
        wait = self._throttle.retry_after(client)
        if wait:
            return _error(
                "rate_limited",
                "Too many wrong admin secrets: wait a moment and try again.",
                429,
                {"Retry-After": str(wait)},
            )
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(_digest(presented.strip()), self._digest):
            return None
        if presented:
            self._throttle.spend(client)  # a guess; a request without any secret spends nothing
        return _error(
            "unauthorized",
            "This needs the admin secret: open the host console link that `engagements serve` printed.",
            401,
            {"WWW-Authenticate": 'Bearer realm="Engagements admin"'},
        )


def admin_only(handler: Handler) -> Handler:
    """A route only the admin may use: everyone else gets a clear JSON 401."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        refused = request.app[ADMIN].refusal(request)
        return refused if refused is not None else await handler(request)

    return guarded


@admin_only
async def whoami(request: web.Request) -> web.Response:
    """Lets the console check a secret typed into its sign-in form before it trusts it."""
    return web.json_response({"admin": True})


def _digest(secret: str) -> bytes:
    """Compared as digests, so the comparison takes as long whatever the length of a guess."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).digest()


def _error(code: str, message: str, status: int, headers: dict[str, str]) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)
