"""What counts as the same word in a word cloud: one normal form for everything a player types.

"Pizza", " pizza! ", "PIZZA" and a Japanese keyboard's full-width "pizza" are one word on the big
screen, so each entry is brought to one form before it is counted:

1. the rules of every typed text (engagements.text.one_line: no control or invisible characters);
2. Unicode NFKC (compatibility forms become the plain ones: full-width letters are the usual
   ones, "ﬁ" is "fi") and case folding (stronger than lower case: "Straße" is "strasse");
3. white space trimmed, and every run of it inside one space;
4. at either end, quotes, brackets, dashes and the marks that end or split a sentence
   (`. , ; : ! ? …` and their kin, `¡ ¿`, `。 、`) taken off: "pizza!" and "(pizza)" are "pizza".
   Inside a phrase they stay ("rock'n'roll", "e-mail"), and so do other symbols at the ends
   (`#`, `+`, `%`, `@`, `&`, `*`: "c#", "c++" and "100%" keep what makes them themselves).

The result is at most WORD_MAX characters and not empty (an entry of punctuation alone is
refused). Normalising a normal form changes nothing (tests/test_word_cloud.py checks it on any text).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from engagements.model import Rejected
from engagements.text import one_line

WORD_MAX = 30  # characters of one entry, normalised: a word or a short phrase, readable in a cloud
TYPED_MAX = 60  # characters of what may be typed, before normalising (spaces and marks are trimmed)
# Categories taken off either end: dashes, opening and closing brackets, opening and closing quotes.
_EDGE_CATEGORIES = frozenset({"Pd", "Ps", "Pe", "Pi", "Pf"})
# Other punctuation taken off either end: what ends or splits a sentence, and the straight quotes.
_EDGE_MARKS = frozenset(".,;:!?…‥¡¿'\"·。、｡､‼⁇⁈⁉")


def _edge(c: str) -> bool:
    return c.isspace() or c in _EDGE_MARKS or unicodedata.category(c) in _EDGE_CATEGORIES


def _fold(text: str) -> str:
    """NFKC and case folding until nothing moves (folding may leave a form NFKC changes again)."""
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    return text


def normalise(raw: Any) -> str:
    """The form in which an entry is counted; raises Rejected saying what to fix."""
    text = _fold(one_line(raw, TYPED_MAX, "word"))
    text = " ".join(text.split())
    start, end = 0, len(text)
    while start < end and _edge(text[start]):
        start += 1
    while end > start and _edge(text[end - 1]):
        end -= 1
    text = text[start:end]
    if not text:
        raise Rejected("invalid", "Type a word or a short phrase (punctuation alone is not one).")
    if len(text) > WORD_MAX:
        raise Rejected("invalid", f"A word or phrase is at most {WORD_MAX} characters.")
    return text
