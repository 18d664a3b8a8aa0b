"""User text, in one place: the rule every typed text obeys, and the escape for every text we print.

Titles, nicknames, prompts, answers and imported packs end up on a projector, on phones, in CSV files
and in logs: each goes through `one_line`, so none carries anything invisible, direction-flipping,
unencodable (a lone surrogate cannot be written as UTF-8) or taller than a line. What the appliance
prints to a terminal or a log goes through `printable`, so stored text from before these rules, or a
name heard over mDNS, cannot move the cursor or recolour an admin's terminal.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from engagements.model import Rejected

# Format characters that carry meaning: ZWNJ shapes Persian and Indic words, ZWJ holds emoji together.
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})
# A subdivision flag (Scotland, Wales) is a black flag, tag letters and a cancel tag: all format characters.
_FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]{1,7}\U000e007f")
_CUT_FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]*$")
_REFUSED = frozenset({"Cc", "Cf", "Co", "Cs"})  # controls, format, private use, surrogates
MAX_MARKS = 8  # combining marks on one letter: enough for any script, too few for text that spills upward
TITLE_MAX = 80


def one_line(raw: Any, limit: int, what: str, *, cut: bool = False) -> str:
    """`raw` as one line of NFC text of at most `limit` characters, or Rejected in `what`'s words.

    White space runs become one space. Longer text is refused, or cut when `cut` (a title).
    """
    if not isinstance(raw, str):
        raise Rejected("bad_message", f"The {what} must be text.")
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if not text:
        raise Rejected("invalid", f"The {what} is empty.")
    bad = _first_refused(text)
    if bad is not None:
        raise Rejected("invalid", f"The {what} has an invisible or control character (U+{ord(bad):04X}).")
    if _stacked_marks(text) > MAX_MARKS:
        raise Rejected("invalid", f"The {what} has too many accents on one letter.")
    if len(text) > limit:
        if not cut:
            raise Rejected("invalid", f"The {what} is over {limit} characters.")
        head = text[:limit]
        if "\U000e0020" <= text[limit] <= "\U000e007f":  # the cut splits a flag: drop all of it
            head = _CUT_FLAG.sub("", head)
        text = head.rstrip()
    return text


def title(raw: Any, default: str) -> str:
    """A game's or a pack's title: cut rather than refused when long (it is a label), `default` when blank."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    return one_line(raw, TITLE_MAX, "title", cut=True)


def printable(text: str) -> str:
    """`text` with every character a terminal would act on, or not show, written as a Python escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(c: str) -> str:
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def _first_refused(text: str) -> str | None:
    if text.isprintable():  # no control, format, private-use, surrogate or unassigned code point
        return None
    for c in _FLAG.sub("", text):
        n = ord(c)
        if (unicodedata.category(c) in _REFUSED and c not in _ALLOWED_FORMAT) or _noncharacter(n):
            return c
    return None


def _noncharacter(n: int) -> bool:
    """U+FDD0..U+FDEF and the last two code points of every plane are reserved for internal use."""
    return 0xFDD0 <= n <= 0xFDEF or n & 0xFFFE == 0xFFFE


def _stacked_marks(text: str) -> int:
    if text.isascii():  # no combining mark: the loop below is most of an answer's cost to the engine
        return 0
    longest = run = 0
    for c in text:
        run = run + 1 if unicodedata.category(c) in ("Mn", "Me") else 0
        longest = max(longest, run)
    return longest
