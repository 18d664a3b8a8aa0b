"""JSON from outside (WebSocket messages, HTTP bodies, question packs), parsed without surprises.

`json.loads` raises RecursionError on a few KB of `[[[[`, accepts `NaN` and `1e999` (which it would
then write back out as invalid JSON) and raises a bare ValueError on a 5,000-digit number. `loads`
turns all of these into one `BadJson` with a message for the sender, and refuses documents nested
deeper than anything the protocol reads, so no later code walks an arbitrarily deep value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 16  # a question pack is 3 deep ({"prompts": [{"prompt": ...}]}), a message 2
_SURROGATE = re.compile("[\ud800-\udfff]")  # after parsing, only a lone `\ud800` escape leaves one


class BadJson(ValueError):
    """The text is not JSON we accept; str() says why, in the sender's words."""


def loads(text: str | bytes) -> Any:
    try:
        doc = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise BadJson(f"it is nested more than {MAX_DEPTH} deep.") from None
    except json.JSONDecodeError as e:
        raise BadJson(f"{e.msg} (line {e.lineno}, column {e.colno}).") from None
    except (ValueError, UnicodeDecodeError) as e:  # a number of thousands of digits; bytes not UTF-8
        raise BadJson(str(e).split(";")[0] + ".") from None
    _check(doc)
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"{literal[:20]} is out of range")
    return value


def _check(doc: Any) -> None:
    """Refuse containers nested too deep and strings that are not Unicode text, without recursion.

    JSON may escape half of a surrogate pair (`"\\ud800"`); such a string cannot be written out as
    UTF-8 again, so it would fail wherever it is echoed, stored or logged (I-JSON, RFC 7493, refuses it).
    """
    stack = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                raise BadJson("a string in it is not Unicode text (a lone surrogate escape).")
            continue
        if isinstance(value, dict):
            stack.extend((k, depth) for k in value)
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth == MAX_DEPTH:
            raise BadJson(f"it is nested more than {MAX_DEPTH} deep.")
        stack.extend((v, depth + 1) for v in value)
