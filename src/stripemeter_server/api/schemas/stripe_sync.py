"""The Stripe account, metric mappings, meters, pushes and subscription items on the wire:
bodies parsed here into the use cases' typed commands (through the bounded parsers), answers
rendered here from their records."""

from __future__ import annotations

import re
from typing import Any, Literal

from stripemeter_server.api.wire import (
    UNSET,
    DecimalInput,
    DecimalText,
    Instant,
    StrictBody,
    Unset,
    refuse_unknown,
    render,
    request_body,
    response,
)
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.stripe_mapping import StripeMapping, mapping_from_dict
from stripemeter_server.domain.timestamps import format_timestamp, from_micros
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync import accounts, pushes
from stripemeter_server.service.stripe_sync.accounts import AccountPolicy
from stripemeter_server.service.stripe_sync.meters import MeterCheck
from stripemeter_server.service.stripe_sync.ports.pushes import PENDING, PushRow
from stripemeter_server.service.stripe_sync.ports.subscription_items import (
    SubscriptionItemRecord,
)
from stripemeter_server.service.stripe_sync.pushes import SUBSCRIPTION_ITEM_ID


class AccountChange(StrictBody):
    secret_key: str | Unset = UNSET
    webhook_secret: str | Unset | None = UNSET
    api_base: str | Unset | None = UNSET
    webhook_secret_grace_seconds: int | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class MappingChange(StrictBody):
    metric: str | Unset = UNSET
    mode: str | Unset = UNSET
    meter_event_name: str | Unset | None = UNSET
    transport: str | Unset | None = UNSET
    precision: int | Unset | None = UNSET
    price: str | Unset | None = UNSET
    unit_amount: DecimalInput | Unset | None = UNSET
    currency: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    tolerance: DecimalInput | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class SubscriptionItemChange(StrictBody):
    subscription_item: str


MAPPING_EXAMPLE = {
    "metric": "api_calls",
    "mode": "meter_events",
    "meterEventName": "api_calls",
    "transport": "v1",
    "precision": 0,
}
ACCOUNT = request_body(
    AccountChange,
    examples=(
        {
            "secretKey": "sk_test_example",
            "webhookSecret": "whsec_example",
            "webhookSecretGraceSeconds": 86400,
        },
    ),
)
MAPPING = request_body(MappingChange, examples=(MAPPING_EXAMPLE,))
SUBSCRIPTION_ITEM = request_body(SubscriptionItemChange, examples=({"subscriptionItem": "si_123"},))


def parse_account(body: object, policy: AccountPolicy | None) -> accounts.AccountChange:
    """Every key through its pattern (a refusal never echoes a value: it may be a secret),
    ``apiBase`` against the operator's allow-list, then the grace period."""
    fields = refuse_unknown(body, AccountChange)
    secret = _secret(fields, "secretKey", accounts.SECRET_KEY, accounts.SECRET_KEY_TEXT)
    if secret is None:
        raise ValidationError("secretKey is required", code="missing_field", field="secretKey")
    webhook = _secret(fields, "webhookSecret", accounts.WEBHOOK_SECRET, accounts.WEBHOOK_TEXT)
    base = _secret(fields, "apiBase", accounts.API_BASE, accounts.API_BASE_TEXT)
    rules = policy or AccountPolicy()
    if base is not None:
        accounts.check_api_base(base, rules.allowed_hosts)
    grace = fields.get("webhookSecretGraceSeconds", rules.webhook_grace_seconds)
    limit = accounts.MAX_GRACE_SECONDS
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= limit:
        raise ValidationError(
            f"webhookSecretGraceSeconds must be an integer 0...{limit}",
            code="invalid_field",
            field="webhookSecretGraceSeconds",
        )
    credentials = StripeCredentials(secret, webhook, base.rstrip("/") if base else None)
    return accounts.AccountChange(credentials, grace)


def _secret(fields: dict[str, Any], name: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValidationError(f"{name} must be {what}", code="invalid_field", field=name)
    return value


def parse_mapping(body: object, metric: str | None = None) -> StripeMapping:
    """A mapping through the bounded mapping parser; on ``PUT …/{metric}`` the path names
    the metric and a body's ``metric`` must agree with it."""
    if metric is not None and isinstance(body, dict):
        if "metric" in body and body["metric"] != metric:
            raise ValidationError(
                "metric in the body differs from the path", code="invalid_field", field="metric"
            )
        body = {k: v for k, v in body.items() if k != "metric"}
    return mapping_from_dict(body, metric=metric)


def parse_subscription_item(body: object) -> str:
    if not isinstance(body, dict) or set(body) - {"subscriptionItem"}:
        raise ValidationError(
            'the body must be {"subscriptionItem": "si_…"}',
            code="invalid_body",
            field="subscriptionItem",
        )
    item = body.get("subscriptionItem")
    if not isinstance(item, str) or not SUBSCRIPTION_ITEM_ID.fullmatch(item):
        raise ValidationError(
            "subscriptionItem must be a Stripe subscription item id (si_…)",
            code="invalid_field",
            field="subscriptionItem",
        )
    return item


class AccountView(StrictBody):
    """Whether and how the account is configured; never a secret."""

    configured: bool
    source: Literal["api", "environment"] | None
    livemode: bool
    key_last4: str | None
    webhook_secret_configured: bool
    previous_webhook_secret_valid_until: Instant | None
    api_base: str | None


class Mapping(StrictBody):
    metric: str
    mode: str
    meter_event_name: str | None
    transport: str
    precision: int | None
    price: str | None
    unit_amount: DecimalText | None
    currency: str | None
    description: str | None
    tolerance: DecimalText | None


class MappingList(StrictBody):
    data: list[Mapping]


class MeterCheckView(StrictBody):
    metric: str
    meter_event_name: str
    formula: str
    status: str
    meter_id: str | None
    reason: str | None


class MeterChecks(StrictBody):
    data: list[MeterCheckView]


class Push(StrictBody):
    id: str
    metric: str
    customer_ref: str
    period_start: Instant | None
    period_end: Instant | None
    seq: int
    mode: str
    transport: str
    target: str | None
    stripe_customer_id: str | None
    value: DecimalText
    pushed_total: DecimalText
    timestamp: int | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    last_error_code: str | None
    next_attempt_at: Instant | None
    created_at: Instant | None
    sent_at: Instant | None


class PushList(StrictBody):
    data: list[Push]
    next_cursor: str | None


class SubscriptionItem(StrictBody):
    customer_ref: str
    metric: str
    subscription_item: str
    source: str
    updated_at: Instant | None


ACCOUNT_ANSWER: dict[int | str, dict[str, Any]] = {200: response(AccountView, "The account")}
MAPPING_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(Mapping, "The mapping (200 when it replaced one)"),
    201: response(Mapping, "Created"),
}
MAPPING_READ: dict[int | str, dict[str, Any]] = {200: response(Mapping, "The mapping")}
MAPPINGS_ANSWER: dict[int | str, dict[str, Any]] = {200: response(MappingList, "The mappings")}
METERS_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(MeterChecks, "Each meter_events mapping's meter")
}
PUSHES_ANSWER: dict[int | str, dict[str, Any]] = {200: response(PushList, "Pushes, newest first")}
PUSH_ANSWER: dict[int | str, dict[str, Any]] = {200: response(Push, "The push")}
ITEM_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(SubscriptionItem, "The subscription item")
}


def _iso(us: int | None) -> str | None:
    return None if us is None else from_micros(us).isoformat().replace("+00:00", "Z")


def account_view(view: accounts.AccountView) -> dict[str, Any]:
    until = view.previous_valid_until_us
    return render(
        AccountView(
            configured=view.configured,
            source=view.source,  # type: ignore[arg-type]
            livemode=view.livemode,
            key_last4=view.key_last4,
            webhook_secret_configured=view.webhook_secret_configured,
            previous_webhook_secret_valid_until=None
            if until is None
            else format_timestamp(from_micros(until)),
            api_base=view.api_base,
        )
    )


def _mapping(mapping: StripeMapping) -> Mapping:
    return Mapping(
        metric=mapping.metric,
        mode=mapping.mode.value,
        meter_event_name=mapping.meter_event_name,
        transport=mapping.transport.value,
        precision=mapping.precision,
        price=mapping.price,
        unit_amount=None if mapping.unit_amount is None else to_plain_string(mapping.unit_amount),
        currency=mapping.currency,
        description=mapping.description,
        tolerance=None if mapping.tolerance is None else to_plain_string(mapping.tolerance),
    )


def mapping_view(mapping: StripeMapping) -> dict[str, Any]:
    return render(_mapping(mapping))


def mapping_list(found: list[StripeMapping]) -> dict[str, Any]:
    return render(MappingList(data=[_mapping(m) for m in found]))


def meter_checks(checks: list[MeterCheck]) -> dict[str, Any]:
    return render(
        MeterChecks(
            data=[
                MeterCheckView(
                    metric=c.metric,
                    meter_event_name=c.event_name,
                    formula=c.formula,
                    status=c.status,
                    meter_id=c.meter_id,
                    reason=c.reason,
                )
                for c in checks
            ]
        )
    )


def _push(row: PushRow) -> Push:
    return Push(
        id=row.push_id,
        metric=row.metric,
        customer_ref=row.customer_ref,
        period_start=_iso(row.period_start_us),
        period_end=_iso(row.period_end_us),
        seq=row.seq,
        mode=row.mode.value,
        transport=row.transport.value,
        target=row.target,
        stripe_customer_id=row.stripe_customer_id,
        value=str(row.value),
        pushed_total=str(row.pushed_after),
        timestamp=row.timestamp_s,
        status=row.status.value,
        attempts=row.attempts,
        last_error=row.last_error,
        last_error_code=row.last_error_code,
        next_attempt_at=_iso(row.next_attempt_us) if row.status == PENDING else None,
        created_at=_iso(row.created_us),
        sent_at=_iso(row.sent_us),
    )


def push_view(row: PushRow) -> dict[str, Any]:
    return render(_push(row))


def push_list(page: pushes.PushPage) -> dict[str, Any]:
    return render(PushList(data=[_push(r) for r in page.rows], next_cursor=page.next_cursor))


def subscription_item_view(record: SubscriptionItemRecord) -> dict[str, Any]:
    return render(
        SubscriptionItem(
            customer_ref=record.customer_ref,
            metric=record.metric,
            subscription_item=record.subscription_item_id,
            source=record.source,
            updated_at=_iso(record.updated_us),
        )
    )


class PushHealthView(StrictBody):
    """Push lag (seconds) and the pending and parked pushes, across tenants."""

    lag_seconds: float
    pending: int
    failed: int


def push_health_struct(health: pushes.PushHealth) -> PushHealthView:
    return PushHealthView(
        lag_seconds=health.lag_seconds, pending=health.pending, failed=health.failed
    )


def push_health_view(health: pushes.PushHealth) -> dict[str, Any]:
    return render(push_health_struct(health))
