"""A quiz question: its text, 2 to 6 options and the index of the correct one.

Hosts write questions in three shapes, all read here:

- an object (the HTTP API, JSON packs): `{"question": "...", "options": ["...", ...], "answer": 1}`,
  `answer` being the correct option's index (from 0) or its text; a true/false question is
  `{"question": "...", "answer": true}` (its options are True and False);
- one line (the host's form, one question per line, and CSV packs' single column):
  `Question | option | *correct option | option`, the correct option marked with `*`, or
  `Question | true` (or `false`) for a true/false question;
- a CSV row with columns `question`, `a` to `f` and `answer` (a letter, `true` or `false`):
  packs.py turns it into the object shape.
"""

from __future__ import annotations

from typing import Any

from engagements.model import Rejected
from engagements.text import one_line

QUESTION_MAX = 200
OPTION_MAX = 80
MIN_OPTIONS, MAX_OPTIONS = 2, 6
TRUE_FALSE = ("True", "False")
SEPARATOR = "|"
CORRECT_MARK = "*"


def parse_question(raw: Any) -> dict[str, Any]:
    """The stored question {"text", "options", "answer"}; raises Rejected saying what to fix."""
    if isinstance(raw, str):
        return _from_line(raw)
    if not isinstance(raw, dict):
        raise Rejected("bad_message", "A quiz question is text or an object with a question and options.")
    text = one_line(raw.get("question", raw.get("text")), QUESTION_MAX, "question")
    answer = raw.get("answer")
    options = raw.get("options")
    if options is None and isinstance(answer, bool):
        return {"text": text, "options": list(TRUE_FALSE), "answer": 0 if answer else 1}
    if not isinstance(options, list) or not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise Rejected("invalid", f"A quiz question has {MIN_OPTIONS} to {MAX_OPTIONS} options.")
    cleaned = [one_line(o, OPTION_MAX, "option") for o in options]
    if isinstance(answer, str) and answer in cleaned:
        answer = cleaned.index(answer)
    if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(cleaned):
        raise Rejected("invalid", "Say which option is correct: its index from 0, or its text.")
    return _checked(text, cleaned, answer)


def _from_line(line: str) -> dict[str, Any]:
    question, *rest = [part.strip() for part in line.split(SEPARATOR)]
    text = one_line(question, QUESTION_MAX, "question")
    if len(rest) == 1 and rest[0].lower() in ("true", "false"):
        return {"text": text, "options": list(TRUE_FALSE), "answer": 0 if rest[0].lower() == "true" else 1}
    if not MIN_OPTIONS <= len(rest) <= MAX_OPTIONS:
        raise Rejected(
            "invalid",
            f"Write a quiz question as: question | option | *correct option (2 to 6 options), "
            f"or question | true (or false). Got: {text[:40]}",
        )
    marked = [i for i, o in enumerate(rest) if o.startswith(CORRECT_MARK)]
    if len(marked) != 1:
        raise Rejected("invalid", f"Mark exactly one option correct with a * in: {text[:40]}")
    options = [one_line(o.removeprefix(CORRECT_MARK), OPTION_MAX, "option") for o in rest]
    return _checked(text, options, marked[0])


def _checked(text: str, options: list[str], answer: int) -> dict[str, Any]:
    if any(SEPARATOR in part for part in (text, *options)):  # a question must survive as one line
        raise Rejected("invalid", f"A quiz question and its options cannot contain {SEPARATOR!r}.")
    if len({o.casefold() for o in options}) != len(options):
        raise Rejected("invalid", f"Two options are the same in: {text[:40]}")
    return {"text": text, "options": options, "answer": answer}


def as_line(question: dict[str, Any]) -> str:
    """The one-line shape of a stored question (what the host's form shows for a pack)."""
    if question["options"] == list(TRUE_FALSE):
        return f"{question['text']} | {'true' if question['answer'] == 0 else 'false'}"
    marked = [CORRECT_MARK * (i == question["answer"]) + o for i, o in enumerate(question["options"])]
    return " | ".join([question["text"], *marked])
