"""How a CSV cell is read by tools left at their defaults, for tests of what an export survives.

pandas is not a dependency of this project, so its default type inference is modelled here from
its documentation (`pandas.read_csv`: `na_values`, `keep_default_na`, `true_values`, "dtype"
inference of the C parser): a column whose every cell reads as an integer becomes int64; one
whose cells read as numbers or missing values becomes float64; one of only True/False words
becomes bool; anything else stays text (object), each cell exactly as written, empty ones NaN.
The model errs towards converting (it reads more as numbers than pandas might, never fewer), so
a value it keeps as text pandas keeps as text too.

Spreadsheets (Excel, LibreOffice Calc, Google Sheets) convert cell by cell on opening a CSV: a
cell that reads as a number, leading zeros, signs, separators, exponent or percent included,
becomes that number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

# pandas' default na_values (pandas._libs.parsers.STR_NA_VALUES), the empty cell included.
PANDAS_NA = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
_TRUE = frozenset({"True", "TRUE", "true"})
_FALSE = frozenset({"False", "FALSE", "false"})
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_FLOAT = re.compile(
    r"\s*[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
    r"|inf|infinity)\s*",
    re.IGNORECASE,
)
_SPREADSHEET_NUMBER = re.compile(
    r"\s*[+-]?[$€£]?(?:[0-9][0-9,]*\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?%?\s*"
)

Cell = str | int | float | bool


def pandas_default_column(cells: Sequence[str]) -> list[Cell]:
    """One column as `pandas.read_csv(path)` reads it, cells as Python values (NaN for NA)."""
    missing = [cell in PANDAS_NA for cell in cells]
    present = [cell for cell, gone in zip(cells, missing, strict=True) if not gone]
    if present and not any(missing) and all(_INTEGER.fullmatch(c) for c in present):
        return [int(c) for c in cells]
    if all(_FLOAT.fullmatch(c) for c in present):
        return [math.nan if gone else float(c) for c, gone in zip(cells, missing, strict=True)]
    if present and not any(missing) and all(c in _TRUE | _FALSE for c in present):
        return [c in _TRUE for c in cells]
    return [math.nan if gone else c for c, gone in zip(cells, missing, strict=True)]


def spreadsheet_reads_as_number(cell: str) -> bool:
    """Whether a spreadsheet opening the CSV would turn this cell into a number."""
    return bool(_SPREADSHEET_NUMBER.fullmatch(cell))
