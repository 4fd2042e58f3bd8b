"""Checking access: one feature, every feature (``all_features.py``, ADR 0937), or "may this
quantity be used now?".

Read-only and straight from the live counters (the ingest transaction keeps them), so an
answer includes every event acknowledged before the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.entitlement_parsing import CODE
from stripemeter_server.domain.entitlements import (
    Access,
    Feature,
    Grant,
    MeteredState,
    Reason,
    evaluate,
)
from stripemeter_server.service.catalog.definitions import decode_metric
from stripemeter_server.service.catalog.ports.definitions import KeyStamp
from stripemeter_server.service.entitlements.all_features import check_all as check_all
from stripemeter_server.service.entitlements.commands import CheckRequest
from stripemeter_server.service.entitlements.features import stored_feature
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork as UnitOfWork
from stripemeter_server.service.entitlements.ports import GrantView, StampedUnitOfWork
from stripemeter_server.service.entitlements.usage import measured, metered_state


def access_for(uow: UnitOfWork, feature: Feature, grant: Grant | None, now: datetime) -> Access:
    """Access under ``grant`` (its usage read only when the grant stands)."""
    return access_with_state(uow, feature, grant, now)[0]


def access_with_state(
    uow: UnitOfWork,
    feature: Feature,
    grant: Grant | None,
    now: datetime,
    view: GrantView | None = None,
) -> tuple[Access, MeteredState | None]:
    """Access, and the metered state it was judged on (``None``: none was read), so a
    reservation can judge the balance after its hold without reading it again. ``view``:
    the customer's record and the feature's metric were read with the grant (ADR 0932,
    ADR 0939), so neither is read again."""
    if grant is not None and measured(feature, grant, now):
        text = view.metric if view is not None else uow.metrics.get(feature.metric or "")
        if text is None:
            return Access(feature, False, Reason.METRIC_NOT_FOUND), None
        state = metered_state(uow, feature, grant, now, decode_metric(text), view)  # read once
        return evaluate(feature, grant, now, state), state
    return evaluate(feature, grant, now), None


def check_feature(uow: UnitOfWork, customer_ref: str, feature_key: str, now: datetime) -> Access:
    check_identifier(customer_ref, "customerRef", code=CODE)
    view = uow.grants.view(customer_ref, feature_key)  # feature, grant, customer: one read
    return _access_of(uow, view, feature_key, now)


def stamped_check(
    uow: StampedUnitOfWork, customer_ref: str, feature_key: str, now: datetime
) -> tuple[KeyStamp, Callable[[], Access]]:
    """``check_feature`` whose one read returns the tenant's key stamp too (ADR 0950), and
    the rest of it, for the caller to run once it has judged the stamp. For a customer ref
    ``check_feature`` accepts (the caller sends any other through ``check_feature``, so its
    refusal still comes after the stamp)."""
    stamp, view = uow.stamped_grants.view(customer_ref, feature_key)
    return stamp, lambda: _access_of(uow, view, feature_key, now)


def _access_of(uow: UnitOfWork, view: GrantView, feature_key: str, now: datetime) -> Access:
    feature = stored_feature(view.feature, feature_key)
    record = view.grant
    return access_with_state(uow, feature, record.grant if record else None, now, view)[0]


@dataclass(frozen=True, slots=True)
class QuantityCheck:
    customer_ref: str
    quantity: Decimal
    access: Access

    @property
    def allowed(self) -> bool:
        return self.access.allows(self.quantity)


def check_quantity(uow: UnitOfWork, request: CheckRequest, now: datetime) -> QuantityCheck:
    """Whether ``quantity`` more may be used now; records nothing."""
    access = check_feature(uow, request.customer_ref, request.feature, now)
    return QuantityCheck(request.customer_ref, request.quantity, access)


def stamped_quantity_check(
    uow: StampedUnitOfWork, request: CheckRequest, now: datetime
) -> tuple[KeyStamp, Callable[[], QuantityCheck]]:
    """``check_quantity`` as ``stamped_check`` gives ``check_feature``."""
    stamp, access = stamped_check(uow, request.customer_ref, request.feature, now)
    return stamp, lambda: QuantityCheck(request.customer_ref, request.quantity, access())
