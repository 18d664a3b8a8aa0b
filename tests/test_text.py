"""The user-text rule, the printing escape and the JSON reader, for any input at all."""

from __future__ import annotations

import json
import logging
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engagements import jsondoc
from engagements.model import Rejected
from engagements.telemetry.logs import TextLines
from engagements.text import MAX_MARKS, one_line, printable, title

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
REFUSED = ("Cc", "Cf", "Co", "Cs")


@given(ANY_TEXT, st.integers(1, 50))
def test_accepted_text_is_one_nfc_line_within_the_limit_with_nothing_invisible(raw, limit):
    try:
        text = one_line(raw, limit, "answer")
    except Rejected as e:
        assert e.code == "invalid" and e.message.startswith("The answer ")
        return
    assert text == unicodedata.normalize("NFC", text) == " ".join(text.split())
    assert 0 < len(text) <= limit
    text.encode("utf-8")  # no lone surrogate
    assert all(unicodedata.category(c) not in REFUSED or c in "\u200c\u200d" for c in text)


@given(st.text(st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=30))
def test_ordinary_text_is_kept_as_typed(raw):
    expected = " ".join(unicodedata.normalize("NFC", raw).split())
    if expected:
        assert one_line(raw, 200, "answer") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",  # ZWJ emoji sequence
        "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f Wales",  # a subdivision flag
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with a ZWNJ
        "Vi\u1ec7t Nam",
        "\U0001f44d\U0001f3fd",  # a skin tone modifier
    ],
)
def test_meaningful_joiners_and_flags_are_kept(raw):
    assert one_line(raw, 100, "title") == raw


@pytest.mark.parametrize(
    "raw",
    [
        "a\x00b",
        "a\x1b[31mb",
        "a\x85b",  # C1 control (NEL): white space to str.split, but not after being collapsed
        "a\u202eb",
        "a\u2066b",
        "a\ufeffb",
        "a\u00adb",
        "a\ud800b",
        "a\U000e0041b",  # a tag letter outside a flag: invisible text
        "a\ufdd0b",
        "a\U0010fffeb",
        "a\ue000b",
        "a" + "\u0300" * (MAX_MARKS + 2),  # NFC makes the first one part of the letter
    ],
)
def test_invisible_control_unencodable_and_stacked_text_is_refused(raw):
    try:
        text = one_line(raw, 100, "answer")
    except Rejected as e:
        assert e.code == "invalid"
        return
    assert text == "a b"  # only white space (which C1's NEL is to Python) may survive, as one space


def test_a_title_is_cut_not_refused_and_a_cut_never_leaves_half_a_flag():
    flag = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert title("x" * 79 + flag, "Game night") == "x" * 79
    assert title("  ", "Game night") == "Game night"
    assert title(None, "Game night") == "Game night"
    with pytest.raises(Rejected):
        title(42, "Game night")


@given(ANY_TEXT)
def test_printed_text_holds_nothing_a_terminal_acts_on(raw):
    shown = printable(raw)
    assert shown.isprintable()
    if raw.isprintable():
        assert shown == raw
    assert "\x1b" not in shown and "\n" not in shown


def test_the_log_escapes_messages_and_tracebacks():
    formatter = TextLines("%(message)s")
    try:
        raise ValueError("in \x1b[2J traceback")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "title %s", ("a\x1b]0;x\x07\nforged",), exc_info
    )
    out = formatter.format(record)
    assert out.startswith("title a\\x1b]0;x\\x07\\x0aforged\nTraceback")
    assert "\x1b" not in out and "in \\x1b[2J traceback" in out


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(JSON)
def test_json_within_the_depth_reads_back_as_written(value):
    text = json.dumps(value)
    if text.count("[") + text.count("{") <= jsondoc.MAX_DEPTH:  # no deeper than the limit, surely
        assert jsondoc.loads(text) == value


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_input_either_reads_or_raises_bad_json(raw):
    try:
        jsondoc.loads(raw)
    except jsondoc.BadJson as e:
        assert str(e)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("[" * 3000, "nested"),
        ("[" * 17 + "]" * 17, "nested"),
        ('{"a":' * 17 + "1" + "}" * 17, "nested"),
        ("NaN", "NaN"),
        ("[-Infinity]", "Infinity"),
        ("1e400", "range"),
        ("1" * 5000, "digits"),
        ('"\\udc00"', "surrogate"),
        ('{"\\ud800": 1}', "surrogate"),
        (b'"\xed\xa0\x80"', "surrogate"),
        (b"\x80", "decode"),
    ],
)
def test_what_json_loads_alone_gets_wrong_is_bad_json(raw, says):
    with pytest.raises(jsondoc.BadJson, match=says):
        jsondoc.loads(raw)


def test_a_document_exactly_at_the_depth_limit_is_read():
    assert jsondoc.loads("[" * jsondoc.MAX_DEPTH + "]" * jsondoc.MAX_DEPTH)
    assert jsondoc.loads('["\\ud83d\\ude00"]') == ["\U0001f600"]  # a proper pair is an emoji
