"""Kahoot! quiz spreadsheets (.xlsx) as quiz packs.

Kahoot's template has a few rows of title and instructions, then a header row (`Question - max 120
characters`, `Answer 1` to `Answer 4`, `Time limit (sec)`, `Correct answer(s) - choose at least one`)
and one question per row below it, its correct answers numbers from 1 to 4 (comma-separated when several
are). The header is found by its text, not its position, so a sheet with a numbering column or without
the title rows reads the same.

A game here has one time per question (the `quiz_seconds` setting): when every row gives the same time
limit it becomes the pack's setting; when they differ the longest wins, so no question is cut shorter
than its author meant, and the pack's notes say so. Times are clamped to the setting's range.

The file comes from outside: it is refused before openpyxl opens it when it unzips to more than
MAX_UNZIPPED bytes (a small zip can inflate to gigabytes), only MAX_ROWS rows are read, and openpyxl
parses its XML with defusedxml (a dependency) when that is installed, as it is here.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl

from engagements.packfile import PackError, RawPack
from engagements.settings import Setting

MAX_UNZIPPED = 8 * 1024 * 1024
MAX_ROWS = 1000
MAX_COLUMNS = 12
ANSWERS = 4
# The header cells, lower-cased, start with these words (Kahoot adds the limits after them).
QUESTION, TIME, CORRECT = "question", "time limit", "correct answer"


def read_kahoot(data: bytes, seconds: Setting) -> RawPack:
    """The questions of the workbook's first sheet, in the object shape the quiz reads."""
    rows = _rows(data)
    at = next((i for i, row in enumerate(rows) if _column(row, QUESTION) is not None), None)
    if at is None:
        raise PackError(
            "No Kahoot! header row found: the sheet needs a row with the columns Question, Answer 1 to "
            "Answer 4, Time limit (sec) and Correct answer(s)."
        )
    header = rows[at]
    columns = {
        "question": _column(header, QUESTION),
        "time": _column(header, TIME),
        "correct": _column(header, CORRECT),
        "answers": [_column(header, f"answer {n}") for n in range(1, ANSWERS + 1)],
    }
    if columns["correct"] is None or None in columns["answers"][:2]:
        raise PackError("The Kahoot! header row needs Answer 1, Answer 2 and Correct answer(s) columns.")
    pack = RawPack([], title=_title(rows[:at]))
    times: list[int] = []
    for number, row in enumerate(rows[at + 1 :], at + 2):
        if not any(_text(cell) for cell in row):
            continue
        try:
            question = _question(row, columns)
            time = _time(_cell(row, columns["time"]))
        except PackError as e:
            pack.errors.append(f"Row {number}: {e}")
            continue
        pack.prompts.append((f"Row {number}", question))
        if time is not None:
            times.append(time)
    if times:
        _set_time(pack, times, seconds)
    return pack


def _rows(data: bytes) -> list[tuple[Any, ...]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as e:
        raise PackError("That is not an .xlsx spreadsheet (save it from Excel or Sheets as .xlsx).") from e
    if unzipped > MAX_UNZIPPED:
        raise PackError(f"That spreadsheet unpacks to more than {MAX_UNZIPPED // (1024 * 1024)} MB.")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds (KeyError, ValueError, its own) on a bad file
        raise PackError("That .xlsx spreadsheet could not be read (save it again as .xlsx).") from e
    try:
        sheet = book.worksheets[0]
        return list(sheet.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True))
    finally:
        book.close()


def _text(cell: Any) -> str:
    """A cell as text: a whole number without its `.0` (an answer `1969`, a time `20`)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def _cell(row: tuple[Any, ...], column: int | None) -> str:
    return _text(row[column]) if column is not None and column < len(row) else ""


def _column(header: tuple[Any, ...], starts: str) -> int | None:
    return next((i for i, cell in enumerate(header) if _text(cell).lower().startswith(starts)), None)


def _title(above: list[tuple[Any, ...]]) -> str | None:
    """The first text above the header that is not Kahoot's own instructions."""
    for row in above:
        for cell in row:
            text = _text(cell)
            if text and "kahoot" not in text.lower() and "template" not in text.lower():
                return text
    return None


def _question(row: tuple[Any, ...], columns: dict[str, Any]) -> dict[str, Any]:
    options = [_cell(row, c) for c in columns["answers"]]
    while options and not options[-1]:
        options.pop()
    if "" in options:
        raise PackError("Fill the answers from Answer 1 on, with no empty one between them.")
    correct = [part.strip() for part in _cell(row, columns["correct"]).split(",") if part.strip()]
    if not correct:
        raise PackError(f"Say which answer is correct (a number from 1 to {len(options) or 4}).")
    if not all(c.isdigit() and 1 <= int(c) <= len(options) for c in correct):
        raise PackError(f"A correct answer must be the number of a filled answer (1 to {len(options)}).")
    answer = [int(c) - 1 for c in correct]
    return {"question": _cell(row, columns["question"]), "options": options, "answer": answer}


def _time(cell: str) -> int | None:
    if not cell:
        return None
    if not cell.isdigit():
        raise PackError(f"The time limit must be a whole number of seconds, not {cell[:20]!r}.")
    return int(cell)


def _set_time(pack: RawPack, times: list[int], seconds: Setting) -> None:
    assert seconds.min is not None and seconds.max is not None
    longest = max(times)
    chosen = min(max(longest, seconds.min), seconds.max)
    if min(times) != longest:
        pack.notes.append(
            f"The time limits differ ({min(times)} to {longest} s); a game gives every question the same "
            f"time, so every question gets {chosen} s."
        )
    elif chosen != longest:
        pack.notes.append(
            f"A question's time is {seconds.min} to {seconds.max} s here: {longest} s became {chosen} s."
        )
    pack.settings[seconds.name] = chosen
