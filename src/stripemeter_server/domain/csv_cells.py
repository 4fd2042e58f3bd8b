"""Spreadsheet-safe CSV cells: the one rule every CSV the project writes applies (ADR 0710).

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (tab and carriage return can hide such a start), so a customer reference like
``=HYPERLINK(...)`` would become a live link or a command. OWASP's rule: such a cell gets a
leading single quote, which the spreadsheet shows as text. One exemption: a cell that is
exactly a plain decimal number (``-5``, ``-0.25``) is kept as it is, because the project's
quantities, drifts and amounts are negative numbers that must stay numbers, and a cell that
matches ``-?digits[.digits]`` in full can hold no formula.

A cell that itself starts with a quote gets one more, so the escape can be undone exactly
(``restored_cell``): an exported CSV imports again as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED: Final = (*FORMULA_STARTS, "'")
_PLAIN_NUMBER: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def safe_cell(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows as text, never runs; non-strings (ints,
    Decimals) pass through, since the csv module writes them as plain numbers."""
    if not isinstance(value, str):
        return value
    if value.startswith(_ESCAPED) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def restored_cell(text: str) -> str:
    """The value ``safe_cell`` wrote as ``text`` (one leading quote removed)."""
    return text[1:] if text.startswith("'") else text


def safe_row(values: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in values]
