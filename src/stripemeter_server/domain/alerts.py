"""Alert rules and webhook signatures: pure definitions, no storage and no I/O.

A rule watches one metric's quantity, or spend (one metric's cost, or the customer's total
cost over all priced metrics), for one customer or all of them. It fires when the watched
value reaches its threshold, at most once per customer and billing period (or once ever).
The signature scheme (``t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``) binds the
timestamp to the body so a receiver can reject both tampering and replays.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from stripemeter_server.domain.bounded import check_text
from stripemeter_server.domain.decimals import check_precision, parse_decimal, to_plain_string
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.money import normalize_currency

SIGNATURE_HEADER: Final = "Stripemeter-Signature"
HUNDRED: Final = Decimal(100)


class AlertKind(StrEnum):
    QUANTITY = "quantity"
    SPEND = "spend"
    # The invoice gate found a draft whose usage lines disagree with the ledger; the
    # threshold (optional, default 0) is the least money at stake that alerts.
    RECONCILIATION = "reconciliation"
    # A customer's prepaid credit balance (in ``currency``, or any) fell below the threshold.
    CREDIT_BALANCE_BELOW = "credit_balance_below"
    # A customer's usage of a metered feature reached ``threshold`` percent of their limit
    # (the grant's limit plus the window's extra grants), once per usage window.
    ENTITLEMENT_USAGE = "entitlement_usage"


class Recurrence(StrEnum):
    PERIOD = "period"  # once per customer per billing period
    ONCE = "once"  # once per customer, ever


@dataclass(frozen=True, slots=True)
class AlertRule:
    kind: AlertKind
    metric: str | None
    customer_ref: str | None
    threshold: Decimal
    percent_of: Decimal | None = None
    currency: str | None = None
    recurrence: Recurrence = Recurrence.PERIOD
    webhook_url: str | None = None
    name: str | None = None
    enabled: bool = True
    feature: str | None = None  # entitlement_usage: the metered feature watched

    @property
    def trigger_value(self) -> Decimal:
        """The absolute value that fires: the threshold, or that percent of ``percentOf``."""
        if self.percent_of is None:
            return self.threshold
        return self.percent_of * self.threshold / HUNDRED

    def watches(self, metric: str, customer_ref: str) -> bool:
        if self.customer_ref is not None and self.customer_ref != customer_ref:
            return False
        return self.metric is None or self.metric == metric


_KEYS: Final = frozenset(
    {
        "type",
        "metric",
        "customerRef",
        "threshold",
        "percentOf",
        "currency",
        "recurrence",
        "webhookUrl",
        "name",
        "enabled",
        "secret",
        "feature",
    }
)


_CODE: Final = "invalid_alert_rule"


def _invalid(message: str, field: str) -> ValidationError:
    return ValidationError(message, code=_CODE, field=field)


def _amount(raw: object, field: str, *, required: bool, allow_zero: bool = False) -> Decimal | None:
    if raw is None:
        if required:
            raise _invalid(f"{field} is required", field)
        return None
    if isinstance(raw, bool | float):
        raise _invalid(f"{field} must be a decimal string or an integer", field)
    try:
        value = parse_decimal(raw)
        check_precision(value)
    except ValueError as exc:
        raise _invalid(f"{field} {exc}", field) from None
    if value < 0 or (value == 0 and not allow_zero):
        raise _invalid(f"{field} must be greater than 0", field)
    return value


def _text(raw: object, field: str, limit: int = 255) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw or len(raw) > limit:
        raise _invalid(f"{field} must be a non-empty string of at most {limit} characters", field)
    return raw


def _webhook_url(raw: object) -> str | None:
    url = _text(raw, "webhookUrl", 2048)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid("webhookUrl must be an absolute http(s) URL", "webhookUrl")
    return url


def rule_from_dict(data: Mapping[str, object]) -> AlertRule:
    """Parse and validate the API's camelCase rule; errors name the offending field."""
    for key in data:
        if key not in _KEYS:
            raise _invalid(f"unknown field {key!r}", str(key))
    try:
        kind = AlertKind(str(data.get("type", "quantity")))
    except ValueError:
        raise _invalid(
            "type must be quantity, spend, reconciliation, credit_balance_below "
            "or entitlement_usage",
            "type",
        ) from None
    try:
        recurrence = Recurrence(str(data.get("recurrence", "period")))
    except ValueError:
        raise _invalid("recurrence must be period or once", "recurrence") from None
    metric = _text(data.get("metric"), "metric")
    if kind is AlertKind.QUANTITY and metric is None:
        raise _invalid("a quantity alert needs a metric", "metric")
    feature = _entitlement_fields(kind, data, metric)
    currency = _text(data.get("currency"), "currency", 3)
    if currency is not None:
        if kind not in (AlertKind.SPEND, AlertKind.CREDIT_BALANCE_BELOW):
            raise _invalid("currency applies to spend and credit alerts only", "currency")
        try:
            currency = normalize_currency(currency)
        except ValidationError as exc:
            raise _invalid(exc.message, "currency") from None
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _invalid("enabled must be true or false", "enabled")
    gate = kind is AlertKind.RECONCILIATION
    threshold = _amount(
        data.get("threshold", "0" if gate else None), "threshold", required=True, allow_zero=gate
    )
    assert threshold is not None
    return AlertRule(
        kind=kind,
        metric=metric,
        customer_ref=_text(data.get("customerRef"), "customerRef"),
        threshold=threshold,
        percent_of=_amount(data.get("percentOf"), "percentOf", required=False),
        currency=currency,
        recurrence=recurrence,
        webhook_url=_webhook_url(data.get("webhookUrl")),
        name=_text(data.get("name"), "name"),
        enabled=enabled,
        feature=feature,
    )


def _entitlement_fields(
    kind: AlertKind, data: Mapping[str, object], metric: str | None
) -> str | None:
    """An entitlement rule names a feature (its metric is the feature's) and a percent of
    the customer's limit, so ``metric`` and ``percentOf`` belong to other kinds."""
    feature = _text(data.get("feature"), "feature")
    if kind is not AlertKind.ENTITLEMENT_USAGE:
        if feature is not None:
            raise _invalid("feature applies to entitlement_usage alerts only", "feature")
        return None
    if feature is None:
        raise _invalid("an entitlement_usage alert needs a feature", "feature")
    if metric is not None:
        raise _invalid("an entitlement_usage alert watches its feature's metric", "metric")
    if data.get("percentOf") is not None:
        raise _invalid(
            "an entitlement_usage threshold is a percent of the customer's limit", "percentOf"
        )
    return feature


@dataclass(frozen=True, slots=True)
class NewRule:
    """The command that creates a rule: the parsed rule and its signing secret. A secret
    the bounded parser refused is carried, not raised, because a rule's own refusals (its
    feature, its webhook's destination, which need the store and the settings) come first."""

    rule: AlertRule
    secret: str | None = None
    secret_refusal: ValidationError | None = None


@dataclass(frozen=True, slots=True)
class RuleChanges:
    """The command that changes a rule: a JSON merge patch of its definition (the keys
    ``rule_to_dict`` writes). It is merged into the stored definition and the result parsed,
    so whether it is valid depends on what was stored; ``secret`` replaces the signing
    secret when given."""

    changes: tuple[tuple[str, object], ...]
    secret: str | None = None

    @property
    def names_webhook(self) -> bool:
        return any(key == "webhookUrl" for key, _ in self.changes)


def parse_new_rule(data: Mapping[str, object]) -> NewRule:
    """A create body as a command; errors name the offending field."""
    rule = rule_from_dict(data)
    try:
        secret = check_text(data.get("secret"), "secret", max_length=255, code=_CODE) or None
    except ValidationError as refused:
        return NewRule(rule, None, refused)
    return NewRule(rule, secret)


def parse_rule_changes(data: Mapping[str, object]) -> RuleChanges:
    """A merge-patch body as a command (parsed once merged with the stored rule)."""
    given = data.get("secret")
    changes = tuple((key, value) for key, value in data.items() if key != "secret")
    return RuleChanges(changes, given if isinstance(given, str) and given else None)


def rule_to_dict(rule: AlertRule) -> dict[str, object]:
    return {
        "type": rule.kind.value,
        "metric": rule.metric,
        "customerRef": rule.customer_ref,
        "threshold": to_plain_string(rule.threshold),
        "percentOf": None if rule.percent_of is None else to_plain_string(rule.percent_of),
        "currency": rule.currency,
        "recurrence": rule.recurrence.value,
        "webhookUrl": rule.webhook_url,
        "name": rule.name,
        "enabled": rule.enabled,
        "feature": rule.feature,
    }


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, f"{timestamp}." + body))``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: int, tolerance_seconds: int = 300
) -> bool:
    """What a receiver does: recompute, compare in constant time, bound the clock skew."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(fields.get("v1", ""), signature(secret, timestamp, body))
