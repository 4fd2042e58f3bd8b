"""Features and grants from and to their JSON form, through the bounded parsers (ADR 0006).

The stored form of a feature or a grant is the API's own JSON (as with prices), so storage
needs no knowledge of the model and every stored value was once accepted by these parsers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from stripemeter_server.domain.bounded import (
    check_identifier,
    check_text,
    find_unsafe,
    parse_decimal_field,
    parse_instant,
)
from stripemeter_server.domain.decimals import ZERO, to_plain_string
from stripemeter_server.domain.entitlements import (
    MAX_CONFIG_BYTES,
    Enforcement,
    Feature,
    FeatureKind,
    Grant,
    canonical_config,
)
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.periods import PeriodType
from stripemeter_server.domain.timestamps import format_timestamp

BILLING_PERIOD: Final = "billingPeriod"
MAX_FILTER_ENTRIES: Final = 16
_FEATURE_FIELDS: Final = frozenset({"key", "type", "name", "config", "metric", "filter", "reset"})
_GRANT_FIELDS: Final = frozenset(
    {
        "enabled",
        "limit",
        "enforcement",
        "overage",
        "config",
        "effectiveAt",
        "expiresAt",
        "stopAtZeroCredit",
        "customerRef",
        "feature",
    }
)
CODE: Final = "invalid_entitlement"


def _invalid(message: str, field: str) -> ValidationError:
    return ValidationError(message, code=CODE, field=field)


def reject_unknown(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in data:
        if name not in allowed:
            shown = str(name)[:100].encode("unicode_escape").decode("ascii")
            raise _invalid(f"unknown field {shown!r}", shown)


def parse_config(raw: object, field: str = "config") -> str:
    """A JSON configuration value, bounded in size and free of unstorable characters."""
    unsafe = find_unsafe(raw, field)
    if unsafe is not None:
        path, code, reason = unsafe
        raise ValidationError(f"{path} {reason}", code=code, field=path)
    try:
        text = canonical_config(raw)
    except (TypeError, ValueError):
        raise _invalid(f"{field} must be a finite JSON value", field) from None
    if len(text.encode()) > MAX_CONFIG_BYTES:
        raise _invalid(f"{field} is larger than {MAX_CONFIG_BYTES} bytes", field)
    return text


def _parse_filter(raw: object) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise _invalid("filter must be an object of path -> value", "filter")
    if len(raw) > MAX_FILTER_ENTRIES:
        raise _invalid(f"filter has more than {MAX_FILTER_ENTRIES} entries", "filter")
    pairs = []
    for path, expected in raw.items():
        check_identifier(path, "filter", code=CODE)
        if not (path == "resourceId" or (path.startswith("meta.") and len(path) > 5)):
            raise _invalid('filter keys must be "resourceId" or "meta.<path>"', f"filter.{path}")
        value = parse_config(expected, f"filter.{path}")
        if len(value) > 255:
            raise _invalid("a filter value is at most 255 characters of JSON", f"filter.{path}")
        pairs.append((path, value))
    return tuple(sorted(pairs))


def _parse_reset(raw: object) -> PeriodType | None:
    if raw is None or raw == BILLING_PERIOD:
        return None
    try:
        return PeriodType(raw) if isinstance(raw, str) else PeriodType("")
    except ValueError:
        raise _invalid("reset must be billingPeriod, month, week, day or hour", "reset") from None


def parse_quantity(raw: object, field: str = "quantity") -> Decimal:
    """A quantity of a check, a hold or a commit: a bounded decimal, never negative."""
    value = parse_decimal_field(raw, field, code=CODE)
    if value < ZERO:
        raise _invalid(f"{field} must not be negative", field)
    return value


def feature_from_dict(key: str, data: Mapping[str, Any]) -> Feature:
    """A feature from its API body (``key`` from the path)."""
    key = check_identifier(key, "key", code=CODE)
    reject_unknown(data, _FEATURE_FIELDS)
    if data.get("key", key) != key:
        raise _invalid("key in the body must match the path", "key")
    try:
        kind = FeatureKind(str(data.get("type")))
    except ValueError:
        raise _invalid("type must be boolean, static or metered", "type") from None
    name = check_text(data.get("name"), "name", max_length=255, code=CODE)
    if kind is FeatureKind.METERED:
        metric = check_identifier(data.get("metric"), "metric", code=CODE)
        for field in ("config",):
            if data.get(field) is not None:
                raise _invalid(f"{field} is for static features", field)
        return Feature(
            key,
            kind,
            name,
            None,
            metric,
            _parse_filter(data.get("filter")),
            _parse_reset(data.get("reset")),
        )
    for field in ("metric", "filter", "reset"):
        if data.get(field) is not None:
            raise _invalid(f"{field} is for metered features", field)
    if kind is FeatureKind.STATIC:
        if "config" not in data:
            raise _invalid("a static feature needs a config value", "config")
        return Feature(key, kind, name, parse_config(data["config"]))
    if data.get("config") is not None:
        raise _invalid("config is for static features", "config")
    return Feature(key, kind, name)


def feature_to_dict(feature: Feature) -> dict[str, Any]:
    out: dict[str, Any] = {"key": feature.key, "type": feature.kind.value, "name": feature.name}
    if feature.kind is FeatureKind.STATIC:
        out["config"] = json.loads(feature.config or "null")
    if feature.kind is FeatureKind.METERED:
        out["metric"] = feature.metric
        out["filter"] = {p: json.loads(v) for p, v in feature.filter} or None
        out["reset"] = feature.reset.value if feature.reset else BILLING_PERIOD
    return out


def _bool(raw: object, field: str, default: bool) -> bool:
    if raw is None:
        return default
    if not isinstance(raw, bool):
        raise _invalid(f"{field} must be true or false", field)
    return raw


def _non_negative(raw: object, field: str) -> Any:
    value = parse_decimal_field(raw, field, code=CODE)
    if value < ZERO:
        raise _invalid(f"{field} must not be negative", field)
    return value


def grant_from_dict(
    customer_ref: str, feature_key: str, kind: FeatureKind, data: Mapping[str, Any]
) -> Grant:
    """A customer's grant of the feature ``feature_key`` (of ``kind``) from its API body."""
    customer_ref = check_identifier(customer_ref, "customerRef", code=CODE)
    reject_unknown(data, _GRANT_FIELDS)
    metered = kind is FeatureKind.METERED
    if metered and data.get("limit") is None:
        raise _invalid("a metered feature's grant needs a limit", "limit")
    for field in ("limit", "overage", "enforcement", "stopAtZeroCredit"):
        if not metered and data.get(field) is not None:
            raise _invalid(f"{field} is for metered features", field)
    if data.get("config") is not None and kind is not FeatureKind.STATIC:
        raise _invalid("config is for static features", "config")
    try:
        enforcement = Enforcement(data.get("enforcement") or "hard")
    except (TypeError, ValueError):
        raise _invalid("enforcement must be hard or soft", "enforcement") from None
    effective = _instant(data.get("effectiveAt"), "effectiveAt")
    expires = _instant(data.get("expiresAt"), "expiresAt")
    if effective is not None and expires is not None and expires <= effective:
        raise _invalid("expiresAt must be after effectiveAt", "expiresAt")
    return Grant(
        customer_ref,
        feature_key,
        _bool(data.get("enabled"), "enabled", True),
        _non_negative(data["limit"], "limit") if metered else None,
        enforcement,
        _non_negative(data.get("overage") or "0", "overage") if metered else ZERO,
        parse_config(data["config"]) if data.get("config") is not None else None,
        effective,
        expires,
        _bool(data.get("stopAtZeroCredit"), "stopAtZeroCredit", False),
    )


def _instant(raw: object, field: str) -> Any:
    return None if raw is None else parse_instant(raw, field)


def grant_to_dict(grant: Grant) -> dict[str, Any]:
    out: dict[str, Any] = {
        "customerRef": grant.customer_ref,
        "feature": grant.feature,
        "enabled": grant.enabled,
        "effectiveAt": None if grant.effective_at is None else format_timestamp(grant.effective_at),
        "expiresAt": None if grant.expires_at is None else format_timestamp(grant.expires_at),
    }
    if grant.config is not None:
        out["config"] = json.loads(grant.config)
    if grant.limit is not None:
        out.update(
            limit=to_plain_string(grant.limit),
            enforcement=grant.enforcement.value,
            overage=to_plain_string(grant.overage),
            stopAtZeroCredit=grant.stop_at_zero_credit,
        )
    return out
