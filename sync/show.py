"""Text from games, made safe to print on the admin's terminal.

A title is whatever a host typed, possibly before titles were screened: printed raw, an escape sequence
in it could set the terminal's title or colours, and a newline or a direction override could forge a
line of the report. Every such character is shown as its Python escape instead (`\\x1b`, `\\u202e`).
"""

from __future__ import annotations

import unicodedata

_ESCAPED = ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")  # controls, format and direction marks, private, separators
_KEPT = {"\u200d"}  # the zero-width joiner holds emoji sequences together


def shown(text: str) -> str:
    """`text` with every control, format or line-separating character escaped; the rest as it is."""
    return "".join(
        c.encode("unicode_escape").decode("ascii")
        if unicodedata.category(c) in _ESCAPED and c not in _KEPT
        else c
        for c in text
    )
