"""A quiz question: its text, 2 to 6 options and the index of the correct one.

Hosts write questions in three shapes, all read here:

- an object (the HTTP API, JSON packs): `{"question": "...", "options": ["...", ...], "answer": 1}`,
  `answer` being the correct option's index (from 0) or its text; a true/false question is
  `{"question": "...", "answer": true}` (its options are True and False);
- one line (the host's form, one question per line, and CSV packs' single column):
  `Question | option | *correct option | option`, the correct option marked with `*`, or
  `Question | true` (or `false`) for a true/false question;
- a CSV row with columns `question`, `a` to `f` and `answer` (the correct option's letter, or
  `true` or `false` for a true/false question, whose option columns stay empty): `from_row` turns it
  into the object shape; a row with only `question` filled in is the one-line shape.
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
# The longest line `as_line` writes (the host's form lets lines this long through).
LINE_MAX = QUESTION_MAX + MAX_OPTIONS * (OPTION_MAX + len(f" {SEPARATOR} {CORRECT_MARK}"))
LETTERS = "abcdef"  # the option columns of a CSV pack, in order


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


def from_row(row: dict[str, str]) -> Any:
    """A CSV pack's row (column -> cell: `question`, `a` to `f`, `answer`) as `parse_question` reads
    it; raises Rejected saying what to fix."""
    question = row.get("question", "")
    cells = [row.get(letter, "").strip() for letter in LETTERS]
    answer = row.get("answer", "").strip().lower()
    if not any(cells) and not answer:
        return question  # the one-line shape, in the question column
    if answer in ("true", "false") and not any(cells):
        return {"question": question, "answer": answer == "true"}
    options = cells[: max(i + 1 for i, cell in enumerate(cells) if cell)] if any(cells) else []
    if "" in options:
        raise Rejected("invalid", "Fill the options from column a on, with no empty column between them.")
    letters = [c for c in answer if c.isalpha()]
    if len(letters) != 1:
        raise Rejected(
            "invalid",
            "Put the correct option's letter in the answer column (one letter: a quiz question has one "
            "correct answer), or true or false for a true/false question.",
        )
    if letters[0] not in LETTERS[: len(options)]:
        raise Rejected("invalid", f"The answer {letters[0]!r} names no option of this row.")
    return {"question": question, "options": options, "answer": LETTERS.index(letters[0])}


def as_item(question: dict[str, Any]) -> dict[str, Any]:
    """The object shape of a stored question (what an exported pack holds)."""
    if question["options"] == list(TRUE_FALSE):
        return {"question": question["text"], "answer": question["answer"] == 0}
    return {"question": question["text"], "options": question["options"], "answer": question["answer"]}


def as_line(question: dict[str, Any]) -> str:
    """The one-line shape of a stored question (what the host's form shows for a pack)."""
    if question["options"] == list(TRUE_FALSE):
        return f"{question['text']} | {'true' if question['answer'] == 0 else 'false'}"
    marked = [CORRECT_MARK * (i == question["answer"]) + o for i, o in enumerate(question["options"])]
    return " | ".join([question["text"], *marked])
