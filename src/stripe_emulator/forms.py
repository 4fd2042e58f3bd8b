"""Decoding Stripe's form bodies (`a[b][0][c]=v`) and reading typed parameters.

The stripe library encodes nested dicts and lists with bracket keys; handlers want
plain nested dicts, so the whole body is decoded once here.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from stripe_emulator.errors import invalid, missing_param

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _set(container: dict[str, Any], parts: list[str], value: str) -> None:
    node: Any = container
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        child_default: Any = [] if nxt == "" or (nxt is not None and nxt.isdigit()) else {}
        if isinstance(node, list):
            idx = len(node) if part == "" else int(part)
            while len(node) <= idx:
                node.append(None)
            if last:
                node[idx] = value
            else:
                if node[idx] is None:
                    node[idx] = child_default
                node = node[idx]
        else:
            if last:
                node[part] = value
            else:
                if part not in node or not isinstance(node[part], dict | list):
                    node[part] = child_default
                node = node[part]


def _listify(node: Any) -> Any:
    """Dicts whose keys are all digits become lists (the library encodes lists that way)."""
    if isinstance(node, dict):
        out = {k: _listify(v) for k, v in node.items()}
        if out and all(k.isdigit() for k in out):
            return [out[k] for k in sorted(out, key=int)]
        return out
    if isinstance(node, list):
        return [_listify(v) for v in node if v is not None]
    return node


def decode_form(raw: str) -> dict[str, Any]:
    """Decode an `application/x-www-form-urlencoded` Stripe body into nested data."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        m = _KEY.match(key)
        if not m:
            result[key] = value
            continue
        parts = [m.group(1), *re.findall(r"\[([^\[\]]*)\]", m.group(2))]
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
        raise invalid(f"Invalid integer: {value}", param=key) from None


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


def metadata(params: dict[str, Any]) -> dict[str, str]:
    """Stripe metadata: string values; an empty string deletes the key on update."""
    return {str(k): str(v) for k, v in get_dict(params, "metadata").items()}


def decimal_json(value: Decimal) -> int | float:
    """Render a number the way Stripe's JSON does (integers stay integers)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
