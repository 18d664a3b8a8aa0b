"""Messages on the wire: JSON text, framed once as a WebSocket frame that every socket can share."""

from __future__ import annotations

import json
import struct
from typing import Any

MAX_FRAME = 32 * 1024  # API Gateway's frame size: no message to any view is larger (protocol.md)


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def frame(message: dict[str, Any]) -> bytes:
    """A message as one WebSocket text frame (RFC 6455, unmasked, uncompressed): the same bytes for all."""
    payload = encode(message).encode()
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload
