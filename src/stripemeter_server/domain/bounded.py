"""Bounded parsers: the one place where client input becomes a value (ADR 0006).

Each kind of input has exactly one parser, and each parser has a bound that keeps every later
computation inside the representable range: a decimal inside the ledger's range cannot
overflow the arithmetic context, an instant inside [1000, 9000) leaves centuries of room for
period arithmetic, a sequence fits a 64-bit column, and a string holds no character that one
of the stores refuses (NUL on PostgreSQL) or that cannot be encoded (unpaired surrogates).
Every parser either returns a value within its bounds or raises ``ValidationError`` naming the
field; nothing else escapes (property-tested).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.timestamps import format_timestamp, parse_timestamp

MAX_SIGNIFICANT_DIGITS: Final = 20
MAX_DECIMAL_PLACES: Final = 12
MAX_DECIMAL_TEXT: Final = 64
MIN_INSTANT: Final = datetime(1000, 1, 1, tzinfo=UTC)
MAX_INSTANT: Final = datetime(9000, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP_TEXT: Final = 64
MAX_SEQUENCE: Final = 2**63 - 1
MAX_IDENTIFIER_LENGTH: Final = 255
MAX_TEXT_LENGTH: Final = 4096

_UNSAFE: Final = re.compile("[\x00\ud800-\udfff]")
_SEQUENCE: Final = re.compile(r"[0-9]{1,19}", re.ASCII)
_PLAIN_DECIMAL: Final = re.compile(r"(?=[0-9.]{1,21}$)[0-9]{1,20}(?:\.[0-9]{1,12})?", re.ASCII)


# --- strings ------------------------------------------------------------------------------


def unsafe_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored on every store, or ``None`` when it can."""
    found = _UNSAFE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters"
    return "must not contain unpaired surrogates (invalid Unicode)"


def check_string(
    raw: object,
    field: str,
    *,
    max_length: int = MAX_IDENTIFIER_LENGTH,
    code: str = "invalid_field",
    required: bool = True,
) -> str:
    """An identifier or a free-text string: a ``str``, non-empty when required, at most
    ``max_length`` characters, and free of NUL and unpaired surrogates."""
    if not isinstance(raw, str):
        raise ValidationError(f"{field} must be a string", code=code, field=field)
    if required and not raw:
        raise ValidationError(f"{field} must not be empty", code=code, field=field)
    if len(raw) > max_length:
        raise ValidationError(
            f"{field} is {len(raw)} characters long; at most {max_length} allowed",
            code="field_too_long",
            field=field,
        )
    reason = unsafe_reason(raw)
    if reason is not None:
        raise ValidationError(f"{field} {reason}", code=code, field=field)
    return raw


def check_identifier(raw: object, field: str, *, code: str = "invalid_field") -> str:
    """A non-empty identifier (customerRef, metric code, key, id) of at most 255 characters."""
    return check_string(raw, field, code=code)


def check_text(
    raw: object, field: str, *, max_length: int = MAX_TEXT_LENGTH, code: str = "invalid_field"
) -> str | None:
    """Optional free text (a note, a label): ``None`` stays ``None``."""
    if raw is None:
        return None
    return check_string(raw, field, max_length=max_length, code=code, required=False)


def string_problem(text: str, max_length: int | None = None) -> tuple[str, str] | None:
    """``(code, reason)`` when ``text`` is too long or holds an unstorable character."""
    if max_length is not None and len(text) > max_length:
        return "field_too_long", f"is {len(text)} characters long; at most {max_length} allowed"
    reason = unsafe_reason(text)
    return None if reason is None else ("invalid_string", reason)


def find_unsafe(
    value: Any, root: str = "", *, max_length: int | None = None
) -> tuple[str, str, str] | None:
    """The first string (key or value) of a parsed JSON document that is too long or holds
    a NUL or an unpaired surrogate, as ``(field path, code, reason)``. Iterative, so a deep
    document costs no stack."""
    stack: list[tuple[str, Any]] = [(root, value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            found = string_problem(node, max_length)
            if found is not None:
                return path or "body", *found
        elif isinstance(node, Mapping):
            for key, item in node.items():
                child = f"{path}.{key}" if path else str(key)
                found = string_problem(key, max_length) if isinstance(key, str) else None
                if found is not None:
                    shown = child[:100].encode("unicode_escape").decode("ascii")
                    return shown, *found
                stack.append((child, item))
        elif isinstance(node, list | tuple):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(node))
    return None


# --- decimals -----------------------------------------------------------------------------


def decimal_value(raw: object) -> Decimal:
    """Read a JSON number or string as an exact, finite decimal inside the ledger's range.

    Raises ``ValueError`` with a human reason (callers attach the field and their code). The
    check counts digits from the decimal's own tuple, so no context can round or overflow.
    """
    if type(raw) is str and _PLAIN_DECIMAL.fullmatch(raw):
        # Plain digits, at most 20 of them and 12 after the point: inside the range as
        # written, so the digit count below cannot fail (the common quantity).
        value = Decimal(raw)
        return Decimal(0) if value.is_zero() else value
    if isinstance(raw, bool):
        raise ValueError("must be a decimal number, not a boolean")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        value = _decimal_from_text(raw)
    else:
        raise ValueError(f"must be a decimal number, got {type(raw).__name__}")
    if not value.is_finite():
        raise ValueError("must be finite (NaN and Infinity are not allowed)")
    check_decimal_range(value)
    return Decimal(0) if value.is_zero() else value


def _decimal_from_text(raw: str) -> Decimal:
    text = raw.strip()
    if not text:
        raise ValueError("must be a decimal number, got an empty string")
    if len(text) > MAX_DECIMAL_TEXT:
        raise ValueError(f"is {len(text)} characters long; at most {MAX_DECIMAL_TEXT} allowed")
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        shown = text[:40].encode("utf-8", "backslashreplace").decode("ascii")
        raise ValueError(f"must be a decimal number, got {shown!r}") from None


def check_decimal_range(value: Decimal) -> None:
    """≤ 20 significant digits and ≤ 12 decimal places (DESIGN §2), counted exactly."""
    if value.is_zero():
        return
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    end = len(digits)
    while end > 1 and digits[end - 1] == 0 and exponent < 0:
        end, exponent = end - 1, exponent + 1
    start = 0
    while start < end - 1 and digits[start] == 0:
        start += 1
    places = -exponent if exponent < 0 else 0
    if places > MAX_DECIMAL_PLACES:
        raise ValueError(f"has {places} decimal places; at most {MAX_DECIMAL_PLACES} are allowed")
    significant = (end - start) + max(exponent, 0)
    if significant > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(
            f"has {significant} significant digits; at most {MAX_SIGNIFICANT_DIGITS} are allowed"
        )


def parse_decimal_field(raw: object, field: str, *, code: str = "invalid_decimal") -> Decimal:
    """:func:`decimal_value` with the error as a ``ValidationError`` naming ``field``."""
    try:
        return decimal_value(raw)
    except ValueError as exc:
        raise ValidationError(f"{field} {exc}", code=code, field=field) from None


# --- instants -----------------------------------------------------------------------------


def parse_instant(raw: object, field: str, *, code: str = "invalid_timestamp") -> datetime:
    """RFC 3339 text to an aware UTC instant in [1000-01-01, 9000-01-01)."""
    if not isinstance(raw, str):
        raise ValidationError(f"{field} must be an RFC 3339 string", code=code, field=field)
    if len(raw) > MAX_TIMESTAMP_TEXT:
        raise ValidationError(f"{field} is not an RFC 3339 date-time", code=code, field=field)
    try:
        instant = parse_timestamp(raw)
    except ValidationError as exc:
        raise ValidationError(f"{field}: {exc.message}", code=code, field=field) from None
    check_instant(instant, field, code=code)
    return instant


def check_instant(instant: datetime, field: str, *, code: str = "invalid_timestamp") -> None:
    if not MIN_INSTANT <= instant < MAX_INSTANT:
        raise ValidationError(
            f"{field} must be from {format_timestamp(MIN_INSTANT)} "
            f"and before {format_timestamp(MAX_INSTANT)}",
            code=code,
            field=field,
        )


# --- sequences (cursors, ids, Last-Event-ID) -------------------------------------------------


def parse_sequence(raw: object, field: str, *, code: str = "invalid_cursor") -> int:
    """A non-negative integer that fits a 64-bit column, from ASCII digits or an int."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _SEQUENCE.fullmatch(raw):
        value = int(raw)
    else:
        raise ValidationError(
            f"{field} must be a non-negative integer of at most 19 digits", code=code, field=field
        )
    if not 0 <= value <= MAX_SEQUENCE:
        raise ValidationError(
            f"{field} must be between 0 and {MAX_SEQUENCE}", code=code, field=field
        )
    return value


def is_sequence(raw: str) -> bool:
    """Whether ``raw`` is text :func:`parse_sequence` accepts."""
    return bool(_SEQUENCE.fullmatch(raw)) and int(raw) <= MAX_SEQUENCE
