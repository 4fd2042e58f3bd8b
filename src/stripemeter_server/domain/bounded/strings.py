"""Bounded strings: identifiers and free text free of what a store refuses (ADR 0006).

NUL (PostgreSQL refuses it) and unpaired surrogates (not encodable) are refused, and every
string has a length bound; ``find_unsafe`` checks every string of a parsed JSON document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from stripemeter_server.domain.errors import ValidationError

MAX_IDENTIFIER_LENGTH: Final = 255
MAX_TEXT_LENGTH: Final = 4096

_UNSAFE: Final = re.compile("[\x00\ud800-\udfff]")


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
