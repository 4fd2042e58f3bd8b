"""JSON text, written two ways by one writer: exact, and canonical (RFC 8785).

* ``dumps``/``loads`` keep decimals exact: event ``meta`` is parsed with ``Decimal``
  numbers so that ``0.1`` stays 0.1, and is stored and returned the same way, which the
  standard encoder cannot do on its own. Keys stay in their order.
* ``canonicalize`` is the JSON Canonicalization Scheme: derived idempotency keys must be
  byte-identical on the server and in every SDK, whatever the language, so JCS fixes key
  order, string escaping and number formatting. JCS numbers are IEEE-754 doubles printed the
  way ECMAScript prints them, so a Decimal or a large int is first rounded to the nearest
  double — exactly what a JavaScript client does when it parses the same JSON text.

The two differ only in numbers and in object keys (order, and whether a key must be a
string); null, booleans, strings (the same escapes) and arrays are written by the same code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["canonicalize", "dumps", "format_double", "loads"]

_encode_string = json.encoder.encode_basestring  # escapes quote, backslash and C0 controls
_MAX_SAFE_INTEGER = 2**53


def dumps(value: Any) -> str:
    """Compact JSON; ``Decimal`` numbers written as their exact text."""
    parts: list[str] = []
    _write(value, parts, False)
    return "".join(parts)


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def canonicalize(value: object) -> bytes:
    """Return the JCS canonical form of ``value`` as UTF-8 bytes.

    Raises ``ValueError`` for NaN, infinities, numbers beyond the double range and strings
    that are not valid Unicode (lone surrogates); ``TypeError`` for unsupported types and
    non-string object keys.
    """
    if _is_plain(value):
        # Fast path (the common event): for strings, null, booleans, safe integers and
        # objects whose keys sort the same by code point and by UTF-16 unit, the standard
        # encoder's output is byte-identical to JCS (same escapes, same number text).
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    else:
        parts: list[str] = []
        _write(value, parts, True)
        text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("string contains a lone surrogate; it is not valid Unicode") from None


def _is_plain(value: object, depth: int = 0) -> bool:
    if value is None or isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -_MAX_SAFE_INTEGER < value < _MAX_SAFE_INTEGER
    if depth > 32:
        return False
    if isinstance(value, list | tuple):
        return all(_is_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and (not key or max(key) < "\ud800") and _is_plain(item, depth + 1)
            for key, item in value.items()
        )
    return False


def _write(value: object, out: list[str], canonical: bool) -> None:
    # Order matters: bool is a subclass of int.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_string(value))
    elif canonical:
        _write_canonical(value, out)
    elif isinstance(value, Decimal):
        out.append(_exact_decimal(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(json.dumps(value, allow_nan=False))
    elif isinstance(value, dict):
        _write_object(list(value.items()), out, False)
    elif isinstance(value, list | tuple):
        _write_array(value, out, False)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _write_canonical(value: object, out: list[str]) -> None:
    if isinstance(value, int | float | Decimal):
        out.append(_double(value))
    elif isinstance(value, list | tuple):
        _write_array(value, out, True)
    elif isinstance(value, Mapping):
        items: list[tuple[str, object]] = []
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
            items.append((key, value[key]))
        # JCS orders keys by their UTF-16 code units, which differs from code point order
        # once astral characters (surrogate pairs) meet characters in U+E000..U+FFFF.
        items.sort(key=lambda item: _utf16_key(item[0]))
        _write_object(items, out, True)
    else:
        raise TypeError(f"cannot canonicalize a value of type {type(value).__name__}")


def _write_array(items: list[Any] | tuple[Any, ...], out: list[str], canonical: bool) -> None:
    out.append("[")
    for index, item in enumerate(items):
        if index:
            out.append(",")
        _write(item, out, canonical)
    out.append("]")


def _write_object(items: list[tuple[Any, Any]], out: list[str], canonical: bool) -> None:
    out.append("{")
    for index, (key, item) in enumerate(items):
        if index:
            out.append(",")
        out.append(_encode_string(str(key)))
        out.append(":")
        _write(item, out, canonical)
    out.append("}")


def _exact_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError("NaN and Infinity are not JSON numbers")
    return format(value, "f") if value == value.to_integral_value() else str(value)


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _double(value: int | float | Decimal) -> str:
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{value} is not a finite number and has no JSON form")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{value} is beyond the range of an IEEE-754 double") from None
    if not math.isfinite(number):
        raise ValueError(f"{value} is not a finite double and has no JSON form")
    return format_double(number)


def format_double(number: float) -> str:
    """Format a finite double as ECMAScript ``Number::toString`` does (ECMA-262 7.1.12.1)."""
    if number == 0:
        return "0"  # -0 prints as 0 too
    if number < 0:
        return "-" + format_double(-number)
    # repr gives the shortest digit string that round-trips, as ECMAScript requires.
    mantissa, _, exp_text = repr(number).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    stripped = digits.lstrip("0")
    # n: position of the decimal point relative to the first significant digit.
    n = len(int_part) + (int(exp_text) if exp_text else 0) - (len(digits) - len(stripped))
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    exponent = n - 1
    sign = "+" if exponent >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(exponent)}"
