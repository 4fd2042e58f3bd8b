"""A customer's own alert thresholds ("webhook me at 80 % of my plan"), made through the
alerts feature's use cases and always pinned to the token's customer and metrics. The
portal remembers which rules a customer made, so a token lists and deletes only those,
never the operator's rules about the same customer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from stripemeter_server.domain.alerts import parse_new_rule
from stripemeter_server.domain.errors import ConflictError, NotFoundError, ValidationError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.alerts import rules as alert_rules
from stripemeter_server.service.operations import audit
from stripemeter_server.service.portal.ports import PortalUnitOfWork as UnitOfWork
from stripemeter_server.service.portal.reads import check_metric
from stripemeter_server.service.portal.tokens import ALERTS_WRITE, PortalGrant, require_scope

FIELDS = frozenset(
    {"name", "metric", "threshold", "percentOf", "recurrence", "webhookUrl", "enabled"}
)
MAX_RULES_PER_CUSTOMER = 20


def list_rules(uow: UnitOfWork, grant: PortalGrant) -> list[alert_rules.RuleView]:
    return [
        alert_rules.get_rule(uow, rule_id) for rule_id in uow.portal.alert_rules(grant.customer_ref)
    ]


def create_rule(
    uow: UnitOfWork, grant: PortalGrant, body: Mapping[str, object], now: datetime
) -> alert_rules.RuleView:
    require_scope(grant, ALERTS_WRITE)
    unknown = set(body) - FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError(f"unknown field {name!r}", code="invalid_alert_rule", field=name)
    metric = body.get("metric")
    if not isinstance(metric, str) or not metric:
        raise ValidationError("metric is required", code="invalid_alert_rule", field="metric")
    check_metric(grant, metric)
    # The webhook's destination is checked by the alert rules themselves (no private
    # addresses unless the operator allows them).
    if len(uow.portal.alert_rules(grant.customer_ref)) >= MAX_RULES_PER_CUSTOMER:
        raise ConflictError(
            f"at most {MAX_RULES_PER_CUSTOMER} alert rules per customer",
            code="too_many_alert_rules",
        )
    rule = parse_new_rule({**body, "type": "quantity", "customerRef": grant.customer_ref})
    view = alert_rules.create_rule(uow, rule, now)
    uow.portal.add_alert_rule(grant.customer_ref, view.rule_id, to_micros(now))
    audit.record(
        uow,
        now,
        "portal_alert.create",
        "alert_rule",
        view.rule_id,
        after={"customerRef": grant.customer_ref, "metric": metric, "tokenId": grant.token_id},
    )
    return view


def delete_rule(uow: UnitOfWork, grant: PortalGrant, rule_id: str, now: datetime) -> None:
    require_scope(grant, ALERTS_WRITE)
    if not uow.portal.remove_alert_rule(grant.customer_ref, rule_id):
        raise NotFoundError(
            f"alert rule {rule_id!r} does not exist", code="alert_rule_not_found", field="id"
        )
    alert_rules.delete_rule(uow, rule_id)
    audit.record(
        uow,
        now,
        "portal_alert.delete",
        "alert_rule",
        rule_id,
        before={"customerRef": grant.customer_ref, "tokenId": grant.token_id},
    )
