"""API Gateway's 32 KB frame limit, which aiohttp cannot see: it only limits whole messages.

API Gateway closes a connection with 1009 when one frame is over 32 KB, even if the message it belongs to is
within 128 KB. aiohttp's reader joins the frames before anyone sees them, so this wrapper reads the frame
headers (RFC 6455 §5.2) from the raw bytes on their way to aiohttp's parser and fails the socket as aiohttp
itself does for an oversized message: the handler's `receive()` then closes with 1009.
"""

from __future__ import annotations

from typing import Any

from aiohttp import WSCloseCode, web
from aiohttp.http_websocket import WebSocketError


class FrameLimit:
    """Stands in for aiohttp's WebSocket parser on one connection and passes every byte on."""

    def __init__(self, parser: Any, queue: Any, limit: int) -> None:
        self.parser, self.queue, self.limit = parser, queue, limit
        self._header = bytearray()  # the header being read, while it is incomplete
        self._skip = 0  # payload bytes left in the current frame
        self._failed = False

    def feed_eof(self) -> None:
        self.parser.feed_eof()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._failed:
            return True, b""
        size = self._oversized(memoryview(data))
        if size is not None:
            self._failed = True
            self.queue.set_exception(
                WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, f"frame of {size} bytes exceeds {self.limit}")
            )
            return True, b""
        return self.parser.feed_data(data)

    def _oversized(self, data: memoryview) -> int | None:
        """Walks the frame boundaries in `data`; the payload length of the first frame over the limit."""
        at = 0
        while at < len(data):
            if self._skip:
                step = min(self._skip, len(data) - at)
                self._skip -= step
                at += step
                continue
            self._header.append(data[at])
            at += 1
            length = _payload_length(self._header)
            if length is None:
                continue
            self._header.clear()
            if length > self.limit:
                return length
            self._skip = length
        return None


def _payload_length(header: bytearray) -> int | None:
    """The frame's payload length once `header` holds the whole header, None while it is short."""
    if len(header) < 2:
        return None
    masked, length = header[1] & 0x80, header[1] & 0x7F
    extra = 2 if length == 126 else 8 if length == 127 else 0
    needed = 2 + extra + (4 if masked else 0)
    if len(header) < needed:
        return None
    if extra:
        length = int.from_bytes(header[2 : 2 + extra], "big")
    return length


def limit_frames(ws: web.WebSocketResponse, request: web.Request, limit: int) -> None:
    """Puts a FrameLimit in front of the parser `ws.prepare()` installed on this request's connection.

    Relies on aiohttp's protocol keeping its WebSocket parser in `_payload_parser` (checked against 3.14
    by tests/test_cloudlocal.py, which sends an oversized frame and expects 1009).
    """
    protocol = request.protocol
    protocol._payload_parser = FrameLimit(protocol._payload_parser, ws._reader, limit)
