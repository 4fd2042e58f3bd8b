"""Alert rules: create, read, update, delete, and replace by name.

A rule's webhook URL is checked when it is saved (and every address again at delivery);
evaluation lives in ``evaluation.py``, fired events in ``events.py``.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.alerts import (
    AlertKind,
    AlertRule,
    NewRule,
    RuleChanges,
    rule_from_dict,
)
from stripemeter_server.domain.alerts import rule_to_dict as _rule_to_dict
from stripemeter_server.domain.destinations import blocked_reason, is_local_name, parse_destination
from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.alerts.ports import (
    AlertRuleRecord,
)
from stripemeter_server.service.alerts.ports import AlertsUnitOfWork as UnitOfWork
from stripemeter_server.service.entitlements.alerts import counted_feature


@dataclass(frozen=True, slots=True)
class RuleView:
    rule_id: str
    rule: AlertRule
    has_secret: bool
    created_us: int
    updated_us: int
    secret: str | None = None  # only right after creation


def _encode(rule: AlertRule) -> str:
    return json.dumps(_rule_to_dict(rule), sort_keys=True, separators=(",", ":"))


def decode_rule(record: AlertRuleRecord) -> AlertRule:
    return rule_from_dict(json.loads(record.definition))


def _view(record: AlertRuleRecord, secret: str | None = None) -> RuleView:
    return RuleView(
        record.rule_id,
        decode_rule(record),
        record.secret is not None,
        record.created_us,
        record.updated_us,
        secret,
    )


def _record(
    rule_id: str, rule: AlertRule, secret: str | None, created_us: int, now_us: int
) -> AlertRuleRecord:
    return AlertRuleRecord(
        rule_id,
        rule.metric,
        rule.customer_ref,
        _encode(rule),
        rule.webhook_url,
        secret,
        created_us,
        now_us,
    )


def check_webhook_url(url: str | None, *, allow_private: bool) -> None:
    """Refuse a webhook URL that names a loopback, private, link-local, unspecified,
    multicast or reserved address (or ``localhost``), unless the operator allows private
    destinations. Names are resolved, and every address checked again, at delivery time
    (``outbound/``), where the connection is pinned to the checked address (ADR 0700)."""
    if url is None:
        return
    destination = parse_destination(url, "webhookUrl")
    if allow_private:
        return
    reason = (
        "a loopback name"
        if is_local_name(destination.host)
        else None
        if destination.address is None
        else blocked_reason(destination.address)
    )
    if reason is not None:
        raise ValidationError(
            f"webhookUrl names {reason}: alert webhooks go to public addresses only "
            "(STRIPEMETER_ALLOW_PRIVATE_WEBHOOKS=true allows private ones)",
            code="webhook_destination_blocked",
            field="webhookUrl",
        )


def check_feature(uow: UnitOfWork, rule: AlertRule) -> None:
    """An entitlement rule watches a metered feature counted by the live counter (ADR 0920):
    refuse one whose feature is missing, not metered, filtered or on its own interval."""
    if rule.kind is not AlertKind.ENTITLEMENT_USAGE or rule.feature is None:
        return
    if counted_feature(uow, rule.feature) is None:
        raise ValidationError(
            f"feature {rule.feature!r} must exist and be metered over the customer's billing "
            "period without a filter of its own",
            code="invalid_alert_rule",
            field="feature",
        )


def create_rule(
    uow: UnitOfWork, command: NewRule, now: datetime, *, allow_private: bool = False
) -> RuleView:
    """Store a rule. A webhook rule gets a signing secret (given, or generated and shown
    once in the response), because an unsigned alert could be forged by anyone."""
    rule = command.rule
    check_feature(uow, rule)
    check_webhook_url(rule.webhook_url, allow_private=allow_private)
    if command.secret_refusal is not None:
        raise command.secret_refusal
    secret = command.secret
    if secret is None and rule.webhook_url is not None:
        secret = f"whsec_{secrets.token_hex(24)}"
    record = _record(f"alr_{uuid.uuid4().hex[:24]}", rule, secret, to_micros(now), to_micros(now))
    uow.alerts.add_rule(record)
    return _view(record, secret)


def get_rule(uow: UnitOfWork, rule_id: str) -> RuleView:
    record = uow.alerts.get_rule(rule_id)
    if record is None:
        raise NotFoundError(
            f"alert rule {rule_id!r} does not exist", code="alert_rule_not_found", field="id"
        )
    return _view(record)


def list_rules(uow: UnitOfWork) -> list[RuleView]:
    return [_view(r) for r in uow.alerts.rules()]


def update_rule(
    uow: UnitOfWork,
    rule_id: str,
    command: RuleChanges,
    now: datetime,
    *,
    allow_private: bool = False,
) -> RuleView:
    """Merge the changes into the rule (JSON merge-patch style); events already fired stay."""
    current = uow.alerts.get_rule(rule_id)
    if current is None:
        get_rule(uow, rule_id)  # raises
        raise AssertionError("unreachable")  # pragma: no cover
    rule = rule_from_dict({**json.loads(current.definition), **dict(command.changes)})
    check_feature(uow, rule)
    if command.names_webhook:
        check_webhook_url(rule.webhook_url, allow_private=allow_private)
    secret = command.secret or current.secret
    record = _record(rule_id, rule, secret, current.created_us, to_micros(now))
    uow.alerts.replace_rule(record)
    return _view(record)


def delete_rule(uow: UnitOfWork, rule_id: str) -> None:
    if not uow.alerts.delete_rule(rule_id):
        get_rule(uow, rule_id)


def replace_named_rules(
    uow: UnitOfWork, prefix: str, commands: list[NewRule], now: datetime
) -> list[RuleView]:
    """Make the rules whose name starts with ``prefix`` exactly ``commands``: a definition
    that owns its rules (a metric's thresholds) restates them all on every change. A rule
    that stays the same is kept, with its id, so what it already fired stays fired."""
    wanted = [command.rule for command in commands]
    kept = []
    for record in uow.alerts.rules():
        rule = decode_rule(record)
        if rule.name is None or not rule.name.startswith(prefix):
            continue
        if rule in wanted:
            wanted.remove(rule)
            kept.append(_view(record))
        else:
            uow.alerts.delete_rule(record.rule_id)
    fresh = [command for command in commands if command.rule in wanted]
    return kept + [create_rule(uow, command, now) for command in fresh]


__all__ = [
    "RuleView",
    "check_webhook_url",
    "create_rule",
    "decode_rule",
    "delete_rule",
    "get_rule",
    "list_rules",
    "replace_named_rules",
    "update_rule",
]
