"""Bounded parsers: the one place where client input becomes a value (ADR 0006).

Each kind of input has exactly one parser, and each parser has a bound that keeps every later
computation inside the representable range: a decimal inside the ledger's range cannot
overflow the arithmetic context, an instant inside [1000, 9000) leaves centuries of room for
period arithmetic, a sequence fits a 64-bit column, and a string holds no character that one
of the stores refuses (NUL on PostgreSQL) or that cannot be encoded (unpaired surrogates).
Every parser either returns a value within its bounds or raises ``ValidationError`` naming the
field; nothing else escapes (property-tested).

One module per kind of input (ADR 0028): ``strings``, ``numbers`` (decimals),
``timestamps`` (instants) and ``cursors`` (sequences); this package re-exports their names,
so ``from stripemeter_server.domain.bounded import check_identifier`` keeps working.
"""

from __future__ import annotations

from stripemeter_server.domain.bounded.cursors import (
    MAX_SEQUENCE,
    is_sequence,
    parse_sequence,
)
from stripemeter_server.domain.bounded.numbers import (
    MAX_DECIMAL_PLACES,
    MAX_DECIMAL_TEXT,
    MAX_SIGNIFICANT_DIGITS,
    check_decimal_range,
    decimal_value,
    parse_decimal_field,
)
from stripemeter_server.domain.bounded.strings import (
    MAX_IDENTIFIER_LENGTH,
    MAX_TEXT_LENGTH,
    check_identifier,
    check_string,
    check_text,
    find_unsafe,
    string_problem,
    unsafe_reason,
)
from stripemeter_server.domain.bounded.timestamps import (
    MAX_INSTANT,
    MAX_TIMESTAMP_TEXT,
    MIN_INSTANT,
    check_instant,
    parse_instant,
)

__all__ = [
    "MAX_DECIMAL_PLACES",
    "MAX_DECIMAL_TEXT",
    "MAX_IDENTIFIER_LENGTH",
    "MAX_INSTANT",
    "MAX_SEQUENCE",
    "MAX_SIGNIFICANT_DIGITS",
    "MAX_TEXT_LENGTH",
    "MAX_TIMESTAMP_TEXT",
    "MIN_INSTANT",
    "check_decimal_range",
    "check_identifier",
    "check_instant",
    "check_string",
    "check_text",
    "decimal_value",
    "find_unsafe",
    "is_sequence",
    "parse_decimal_field",
    "parse_instant",
    "parse_sequence",
    "string_problem",
    "unsafe_reason",
]
