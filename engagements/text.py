"""User text that ends up on a projector: one line, bounded, nothing invisible or direction-flipping."""

from __future__ import annotations

import unicodedata
from typing import Any

from engagements.model import Rejected

_ALLOWED_FORMAT = {"\u200d"}  # the zero-width joiner holds emoji sequences together


def one_line(raw: Any, limit: int, what: str) -> str:
    """Collapse white space and refuse empty, over-long or control-character text, in `what`'s words."""
    if not isinstance(raw, str):
        raise Rejected("bad_message", f"The {what} must be text.")
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if not text:
        raise Rejected("invalid", f"The {what} is empty.")
    if len(text) > limit:
        raise Rejected("invalid", f"The {what} is over {limit} characters.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") and c not in _ALLOWED_FORMAT for c in text):
        raise Rejected("invalid", f"The {what} has invisible control characters.")
    return text
