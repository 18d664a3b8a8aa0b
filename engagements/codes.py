"""Identifiers and secrets: join codes people type, ids, and tokens that are only ever stored hashed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# No 0/O, 1/I/L, 5/S or 2/Z: a code read off a projector across a room is typed right the first time.
CODE_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 7  # 27**7 ≈ 10**10 codes: with joins throttled per client, guessing a live one is hopeless
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_TO_ID_ALPHABET = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ID_ALPHABET)  # base32 to ours


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """What a player typed, as a code: case, spaces and dashes do not matter."""
    return "".join(raw.split()).replace("-", "").upper()


def is_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


def is_id(value: str) -> bool:
    """Could be one of our ids: short ASCII letters and digits (a path may carry anything)."""
    return 0 < len(value) <= 40 and value.isascii() and value.isalnum()


def new_id(prefix: str, length: int = 12) -> str:
    """`length` characters of ID_ALPHABET, 5 random bits each, from one read of the system's random
    source (a `secrets.choice` per character was one system call each: a twentieth of a join's cost)."""
    raw = base64.b32encode(secrets.token_bytes((length * 5 + 7) // 8)).decode()
    return prefix + raw[:length].translate(_TO_ID_ALPHABET)


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def token_for(owner: str) -> tuple[str, str]:
    """A bearer token naming its owner, and the hash kept in the store (the token itself never is)."""
    secret = new_secret()
    return f"{owner}.{secret}", hash_secret(secret)


def keyed(key: str, purpose: str, value: str) -> str:
    """A keyed hash of something a client sends (a client or device id, an address): what the game
    keeps of it, so the store never holds the ids (a client id opens its seat) or addresses."""
    return hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def is_client_id(value: object) -> bool:
    """Client and device ids are random strings a browser makes: 16 to 64 URL-safe characters."""
    return (
        isinstance(value, str)
        and 16 <= len(value) <= 64
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
    )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    if not token.isascii():  # ours are; other text may not even be encodable for hashing
        return None
    owner, dot, secret = token.partition(".")
    return (owner, secret) if dot and owner and secret else None


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
