"""Metric codes: the identifier alphabet a new code must use, and the nearest known codes
for a name that matches none (ADR 0714).

A code is a letter, then up to 127 letters, digits, ``_``, ``.``, ``:`` or ``-``
(``api_calls``, ``storage.gb``, ``llm:tokens-in``). It appears in URLs, CSV cells, Stripe
meter names and dashboard pages, so it has no spaces, quotes, angle brackets or a leading
``=``/``-``. Only new codes are checked: a code created before the rule (any non-empty
string of at most 255 characters) keeps working everywhere.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Final

from stripemeter_server.domain.errors import ValidationError

CODE_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_.:-]{0,127}$"
_CODE: Final = re.compile(CODE_PATTERN, re.ASCII)
SUGGESTIONS: Final = 3


def is_valid_code(code: str) -> bool:
    return _CODE.fullmatch(code) is not None


def check_new_code(code: str, field: str = "code") -> str:
    """``code`` if a new metric may be created with it, else a ``ValidationError``."""
    if not is_valid_code(code):
        raise ValidationError(
            "a metric code is a letter, then up to 127 letters, digits, '_', '.', ':' or '-'",
            code="invalid_metric_code",
            field=field,
        )
    return code


def closest_codes(name: str, known: Iterable[str]) -> list[str]:
    """Up to three known codes nearest to ``name`` (a likely typo), best first."""
    return difflib.get_close_matches(name, list(known), n=SUGGESTIONS, cutoff=0.6)


def unknown_metric_message(name: str, known: Iterable[str]) -> str:
    """``metric 'api_cals' is not defined; did you mean 'api_calls'?`` and how to fix it."""
    nearest = closest_codes(name, known)
    hint = f"; did you mean {' or '.join(repr(code) for code in nearest)}?" if nearest else ""
    return f"metric {name!r} is not defined{hint} (create it first: POST /v1/metrics)"
