"""RFC 8785 (JSON Canonicalization Scheme) serialisation.

Derived idempotency keys must be byte-identical on the server and in every SDK, whatever the
language: JCS fixes key order, string escaping and number formatting so that they are.
JCS numbers are IEEE-754 doubles printed the way ECMAScript prints them, so a Decimal or a
large int is first rounded to the nearest double — exactly what a JavaScript client does when
it parses the same JSON text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal

__all__ = ["canonicalize", "format_double"]


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
        _write(value, parts)
        text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("string contains a lone surrogate; it is not valid Unicode") from None


_MAX_SAFE_INTEGER = 2**53


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


def _write(value: object, out: list[str]) -> None:
    # Order matters: bool is a subclass of int.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int | float | Decimal):
        out.append(_number(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, Mapping):
        _write_object(value, out)
    else:
        raise TypeError(f"cannot canonicalize a value of type {type(value).__name__}")


def _write_object(value: Mapping[object, object], out: list[str]) -> None:
    keys: list[str] = []
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"object keys must be strings, not {type(key).__name__}")
        keys.append(key)
    out.append("{")
    # JCS orders keys by their UTF-16 code units, which differs from code point order once
    # astral characters (surrogate pairs) meet characters in U+E000..U+FFFF.
    for index, key in enumerate(sorted(keys, key=_utf16_key)):
        if index:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    # With ensure_ascii=False the standard encoder escapes exactly what JCS escapes: the
    # quote, the backslash and C0 controls (short forms for \b \t \n \f \r, else \u00xx).
    return json.dumps(text, ensure_ascii=False)


def _number(value: int | float | Decimal) -> str:
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
