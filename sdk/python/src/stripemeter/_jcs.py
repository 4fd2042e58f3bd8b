"""A small RFC 8785 (JSON Canonicalization Scheme) serializer.

The SDK depends only on httpx, so it carries this ~80-line implementation instead of a JCS
library. Rules (RFC 8785 §3.2):

* no whitespace; object members sorted by the UTF-16 code units of their names;
* strings escaped minimally: ``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other controls as
  ``\\u00xx`` (lower-case hex); everything else literal UTF-8;
* numbers are IEEE-754 doubles printed as ECMAScript's ``Number.prototype.toString``;
  integers outside ±(2**53 - 1) are refused (they cannot round-trip through a double);
  NaN and the infinities are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["canonicalize", "canonicalize_bytes"]

_MAX_SAFE_INTEGER = 2**53 - 1

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _string(value: str) -> str:
    out = ['"']
    for ch in value:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number(value: float) -> str:
    """ECMAScript ``Number::toString`` of a finite double."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and Infinity are not valid JSON numbers")
    if value == 0:
        return "0"  # also -0
    sign = "-" if value < 0 else ""
    # repr() yields the shortest digits that round-trip, as ECMAScript requires.
    parsed = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, parsed.digits)).rstrip("0")
    exponent = int(parsed.exponent) + (len(parsed.digits) - len(digits))
    k = len(digits)
    n = k + exponent  # value = 0.<digits> * 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp = ("+" if e >= 0 else "-") + str(abs(e))
        body = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + exp
    return sign + body


def _serialize(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside the JSON-safe range ±(2**53-1)")
        out.append(_number(float(value)))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        items = []
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            items.append(key)
        items.sort(key=lambda k: k.encode("utf-16-be"))
        out.append("{")
        for i, key in enumerate(items):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _serialize(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _serialize(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def canonicalize(value: Any) -> str:
    """The RFC 8785 canonical JSON text of ``value``."""
    out: list[str] = []
    _serialize(value, out)
    return "".join(out)


def canonicalize_bytes(value: Any) -> bytes:
    """The UTF-8 bytes of :func:`canonicalize` (what gets hashed)."""
    return canonicalize(value).encode("utf-8")
