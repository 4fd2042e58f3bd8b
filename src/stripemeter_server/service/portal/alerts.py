"""A customer's own alert thresholds ("webhook me at 80 % of my plan"), made through the
alerts feature's use cases and always pinned to the token's customer and metrics. The
portal remembers which rules a customer made, so a token lists and deletes only those,
never the operator's rules about the same customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.alerts import NewRule
from stripemeter_server.domain.errors import ConflictError, NotFoundError, ValidationError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.alerts import rules as alert_rules
from stripemeter_server.service.operations import audit
from stripemeter_server.service.portal.ports import PortalUnitOfWork as UnitOfWork
from stripemeter_server.service.portal.reads import check_metric
from stripemeter_server.service.portal.tokens import ALERTS_WRITE, PortalGrant, require_scope


@dataclass(frozen=True, slots=True)
class PortalRule:
    """The command that sets a customer's threshold, parsed at the edge (ADR 0035). Its
    refusals are carried, not raised, so they keep their place among the checks that need
    the grant and the store: ``body_refusal`` (an unknown key, no metric) comes after the
    scope, ``rule_refusal`` (the rule's own fields) after the metric and the rule limit."""

    metric: str
    rule: NewRule | None
    body_refusal: ValidationError | None = None
    rule_refusal: ValidationError | None = None


MAX_RULES_PER_CUSTOMER = 20


def list_rules(uow: UnitOfWork, grant: PortalGrant) -> list[alert_rules.RuleView]:
    return [
        alert_rules.get_rule(uow, rule_id) for rule_id in uow.portal.alert_rules(grant.customer_ref)
    ]


def create_rule(
    uow: UnitOfWork, grant: PortalGrant, command: PortalRule, now: datetime
) -> alert_rules.RuleView:
    require_scope(grant, ALERTS_WRITE)
    if command.body_refusal is not None:
        raise command.body_refusal
    metric = command.metric
    check_metric(grant, metric)
    # The webhook's destination is checked by the alert rules themselves (no private
    # addresses unless the operator allows them).
    if len(uow.portal.alert_rules(grant.customer_ref)) >= MAX_RULES_PER_CUSTOMER:
        raise ConflictError(
            f"at most {MAX_RULES_PER_CUSTOMER} alert rules per customer",
            code="too_many_alert_rules",
        )
    if command.rule_refusal is not None:
        raise command.rule_refusal
    assert command.rule is not None  # a command without a refusal carries its rule
    rule = command.rule
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
