"""A quiz question: its text, 2 to 6 options and the indexes of the correct ones.

Most questions have one correct option; some have several (a Kahoot! sheet may mark two, "name a
prime" may accept 2 and 3), and a player who picks any of them is right. The stored question keeps
`answer` as the sorted list of the correct options' indexes, however it was written.

Hosts write questions in three shapes, all read here:

- an object (the HTTP API, JSON packs): `{"question": "...", "options": ["...", ...], "answer": 1}`,
  `answer` being the correct option's index (from 0) or its text, or a list of them; a true/false
  question is `{"question": "...", "answer": true}` (its options are True and False);
- one line (the host's form, one question per line, and CSV packs' single column):
  `Question | option | *correct option | option`, each correct option marked with `*`, or
  `Question | true` (or `false`) for a true/false question;
- a CSV row with columns `question`, `a` to `f` and `answer` (the correct options' letters, such as
  `b` or `b, d`, or `true` or `false` for a true/false question, whose option columns stay empty):
  `from_row` turns it into the object shape; a row with only `question` filled in is the one-line shape.
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
    """The stored question {"text", "options", "answer": [correct indexes]}; raises Rejected saying
    what to fix."""
    if isinstance(raw, str):
        return _from_line(raw)
    if not isinstance(raw, dict):
        raise Rejected("bad_message", "A quiz question is text or an object with a question and options.")
    text = one_line(raw.get("question", raw.get("text")), QUESTION_MAX, "question")
    answer = raw.get("answer")
    options = raw.get("options")
    if options is None and isinstance(answer, bool):
        return _true_false(text, answer)
    if not isinstance(options, list) or not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise Rejected("invalid", f"A quiz question has {MIN_OPTIONS} to {MAX_OPTIONS} options.")
    cleaned = [one_line(o, OPTION_MAX, "option") for o in options]
    given = answer if isinstance(answer, list) and answer else [answer]
    correct = [cleaned.index(a) if isinstance(a, str) and a in cleaned else a for a in given]
    if not all(isinstance(a, int) and not isinstance(a, bool) and 0 <= a < len(cleaned) for a in correct):
        raise Rejected(
            "invalid", "Say which option is correct: its index from 0 or its text (a list if several are)."
        )
    return _checked(text, cleaned, correct)


def _true_false(text: str, true: bool) -> dict[str, Any]:
    return {"text": text, "options": list(TRUE_FALSE), "answer": [0 if true else 1]}


def _from_line(line: str) -> dict[str, Any]:
    question, *rest = [part.strip() for part in line.split(SEPARATOR)]
    text = one_line(question, QUESTION_MAX, "question")
    if len(rest) == 1 and rest[0].lower() in ("true", "false"):
        return _true_false(text, rest[0].lower() == "true")
    if not MIN_OPTIONS <= len(rest) <= MAX_OPTIONS:
        raise Rejected(
            "invalid",
            f"Write a quiz question as: question | option | *correct option (2 to 6 options), "
            f"or question | true (or false). Got: {text[:40]}",
        )
    marked = [i for i, o in enumerate(rest) if o.startswith(CORRECT_MARK)]
    if not marked:
        raise Rejected("invalid", f"Mark the correct option (or options) with a * in: {text[:40]}")
    options = [one_line(o.removeprefix(CORRECT_MARK), OPTION_MAX, "option") for o in rest]
    return _checked(text, options, marked)


def _checked(text: str, options: list[str], correct: list[int]) -> dict[str, Any]:
    if any(SEPARATOR in part for part in (text, *options)):  # a question must survive as one line
        raise Rejected("invalid", f"A quiz question and its options cannot contain {SEPARATOR!r}.")
    if len({o.casefold() for o in options}) != len(options):
        raise Rejected("invalid", f"Two options are the same in: {text[:40]}")
    return {"text": text, "options": options, "answer": sorted(set(correct))}


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
    if not letters:
        raise Rejected(
            "invalid",
            "Put the correct option's letter in the answer column (several, such as b, d, if more than "
            "one is correct), or true or false for a true/false question.",
        )
    for letter in letters:
        if letter not in LETTERS[: len(options)]:
            raise Rejected("invalid", f"The answer {letter!r} names no option of this row.")
    return {"question": question, "options": options, "answer": [LETTERS.index(c) for c in letters]}


def as_item(question: dict[str, Any]) -> dict[str, Any]:
    """The object shape of a stored question (what an exported pack holds)."""
    correct = question["answer"]
    if question["options"] == list(TRUE_FALSE):
        return {"question": question["text"], "answer": correct == [0]}
    answer = correct[0] if len(correct) == 1 else correct
    return {"question": question["text"], "options": question["options"], "answer": answer}


def as_line(question: dict[str, Any]) -> str:
    """The one-line shape of a stored question (what the host's form shows for a pack)."""
    if question["options"] == list(TRUE_FALSE):
        return f"{question['text']} | {'true' if question['answer'] == [0] else 'false'}"
    marked = [CORRECT_MARK * (i in question["answer"]) + o for i, o in enumerate(question["options"])]
    return " | ".join([question["text"], *marked])
