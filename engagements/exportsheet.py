"""A game's export as a spreadsheet (`export.xlsx`): a sheet per table of engagements.export.

Every text players typed is written as a string cell: openpyxl would write `=…` as a formula and
`#N/A` as an error value, which a spreadsheet program would then run or show as its own.
"""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from engagements.export import Table

SHEET_NAME = re.compile(r"[\[\]:*?/\\]")  # what a sheet's name may not hold
WIDEST = 60  # characters: a column is as wide as its longest text in the first rows, up to this


def workbook(tables: list[Table]) -> bytes:
    """One sheet per table, written row by row (openpyxl's write-only mode keeps no cell in memory
    once written), the header bold and frozen."""
    book = Workbook(write_only=True)
    for table in tables:
        _sheet(book.create_sheet(_sheet_name(table.name)), table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(sheet: WriteOnlyWorksheet, table: Table) -> None:
    for i, column in enumerate(table.columns):
        longest = max((len(str(row[i])) for row in table.rows[:100] if row[i] is not None), default=0)
        sheet.column_dimensions[get_column_letter(i + 1)].width = min(max(longest, len(column)) + 2, WIDEST)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, column, bold) for column in table.columns])
    for row in table.rows:
        sheet.append([_cell(sheet, value) if _not_plain(value) else value for value in row])


def _not_plain(value: object) -> bool:
    """Text openpyxl would not write as a string by itself: a formula (`=…`) or an error (`#N/A`)."""
    return isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES)


def _cell(sheet: WriteOnlyWorksheet, text: str, font: Font | None = None) -> WriteOnlyCell:
    """A string cell, whatever the text: openpyxl would take `=…` for a formula."""
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _sheet_name(name: str) -> str:
    """`Results Quiz`: a table's name as a sheet may be named (31 characters, none of `[]:*?/\\`)."""
    return SHEET_NAME.sub(" ", name[:1].upper() + name[1:])[:31]
