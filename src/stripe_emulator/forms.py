"""Decoding Stripe's form bodies (`a[b][0][c]=v`) and reading typed parameters.

The stripe library encodes nested dicts and lists with bracket keys; handlers want
plain nested dicts, so the whole body is decoded once here.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote_plus

from stripe_emulator.errors import invalid, invalid_integer, missing_param

# A bound on one request's parameters (Stripe's largest bodies have a few hundred).
MAX_FIELDS = 5000
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def _unquote(text: str) -> str:
    return unquote_plus(text) if "%" in text or "+" in text else text


def _pairs(raw: str) -> list[tuple[str, str]]:
    """``parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FIELDS)``, with the
    unquoting skipped for the (most) names and values that need none: the same pairs at
    a third of the cost, which mattered on the meter-event path (ADR 0953)."""
    fields = raw.split("&")
    if len(fields) > MAX_FIELDS:
        raise invalid(f"Too many parameters: at most {MAX_FIELDS} are accepted.")
    pairs = []
    for field in fields:
        if field:
            name, _, value = field.partition("=")
            pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _set(container: dict[str, Any], parts: list[str], value: str) -> None:
    """Place one bracket key. Every level is built as a dict (an empty `[]` appends the
    next index), so no index, however large or mixed with names, can allocate a list;
    `_listify` turns all-digit dicts into lists afterwards."""
    node = container
    for part in parts[:-1]:
        key = str(len(node)) if part == "" else part
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    last = parts[-1]
    node[str(len(node)) if last == "" else last] = value


def _listify(node: Any) -> Any:
    """Dicts whose keys are all digits become lists (the library encodes lists that way)."""
    if isinstance(node, dict):
        out = {k: _listify(v) for k, v in node.items()}
        if out and all(k.isdigit() for k in out):
            return [out[k] for k in sorted(out, key=int)]
        return out
    return node


def decode_form(raw: str) -> dict[str, Any]:
    """Decode an `application/x-www-form-urlencoded` Stripe body into nested data."""
    result: dict[str, Any] = {}
    for key, value in _pairs(raw):
        if "[" not in key and "]" not in key:
            result[key] = value  # what `_KEY` matches with no brackets: a plain name
            continue
        m = _KEY.match(key)
        if not m:
            result[key] = value
            continue
        parts = [m.group(1), *_BRACKETS.findall(m.group(2))]
        _set(result, parts, value)
    decoded = _listify(result)
    assert isinstance(decoded, dict)
    return decoded


def get_str(params: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise missing_param(key)
        return None
    if not isinstance(value, str | int | float):
        raise invalid(f"Invalid string: {value!r}", param=key)
    return str(value)


def req_str(params: dict[str, Any], key: str) -> str:
    value = get_str(params, key, required=True)
    assert value is not None
    return value


def get_int(params: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    value = get_str(params, key, required=required)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid_integer(key, value) from None


def get_decimal(params: dict[str, Any], key: str) -> Decimal | None:
    value = get_str(params, key)
    if value is None:
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {value}", param=key) from None
    if not parsed.is_finite():
        raise invalid(f"Invalid decimal: {value}", param=key)
    return parsed


def get_bool(params: dict[str, Any], key: str, default: bool) -> bool:
    value = params.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def get_dict(params: dict[str, Any], key: str) -> dict[str, Any]:
    value = params.get(key)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {key}", param=key)
    return value


def get_list(params: dict[str, Any], key: str) -> list[Any]:
    """An array parameter (`key[0]=…`); absent or empty is an empty list."""
    value = params.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise invalid(f"Invalid array: {key}", param=key)
    return value


def get_strings(params: dict[str, Any], key: str) -> list[str]:
    """An array of strings; a single string counts as a one-element array."""
    value = params.get(key)
    if isinstance(value, str | int | float) and value != "":
        return [str(value)]
    found = get_list(params, key)
    for index, element in enumerate(found):
        if not isinstance(element, str | int | float):
            raise invalid(f"Invalid string: {key}[{index}]", param=f"{key}[{index}]")
    return [str(e) for e in found]


def get_dicts(params: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """An array of hashes (`items[0][price]=…`)."""
    found = get_list(params, key)
    for index, element in enumerate(found):
        if not isinstance(element, dict):
            raise invalid(f"Invalid object: {key}[{index}]", param=f"{key}[{index}]")
    return found


def metadata(params: dict[str, Any]) -> dict[str, str]:
    """Stripe metadata: string values; an empty string deletes the key on update."""
    return {str(k): str(v) for k, v in get_dict(params, "metadata").items()}


def decimal_json(value: Decimal) -> int | float:
    """Render a number the way Stripe's JSON does (integers stay integers)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
