"""Entitlements: what a feature is, what a customer is granted, and the access arithmetic.

Pure and exact: a feature's metered usage, the customer's limit (plus the one-off extra
grants of the window) and the quantity held by open reservations go in; access, balance and
the reason come out. Reading the counters and the clock is the service layer's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from stripemeter_server.domain.decimals import ARITHMETIC, ZERO
from stripemeter_server.domain.periods import PeriodType

MAX_CONFIG_BYTES = 4096


class FeatureKind(StrEnum):
    BOOLEAN = "boolean"  # on or off
    STATIC = "static"  # on or off, with a JSON configuration value (a seat cap, a tier name)
    METERED = "metered"  # a quota over a metric's usage


class Enforcement(StrEnum):
    HARD = "hard"  # refuse past limit + overage allowance
    SOFT = "soft"  # never refuse; report the overrun


class Reason(StrEnum):
    """Why access is what it is (``ok`` when nothing stands in the way)."""

    OK = "ok"
    NO_GRANT = "no_grant"
    NOT_YET_EFFECTIVE = "not_yet_effective"
    EXPIRED = "expired"
    DISABLED = "disabled"
    LIMIT_REACHED = "limit_reached"
    OVER_SOFT_LIMIT = "over_soft_limit"
    NO_CREDIT = "no_credit"
    METRIC_NOT_FOUND = "metric_not_found"  # the metered feature's metric was deleted


@dataclass(frozen=True, slots=True)
class Feature:
    """A capability the tenant sells. ``reset`` is ``None`` for "with the customer's
    billing period of the metric", or a fixed calendar interval (UTC)."""

    key: str
    kind: FeatureKind
    name: str | None = None
    config: str | None = None  # static: canonical JSON text
    metric: str | None = None  # metered
    filter: tuple[tuple[str, str], ...] = ()  # metered: (path, canonical JSON value)
    reset: PeriodType | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """One customer's entitlement to one feature."""

    customer_ref: str
    feature: str
    enabled: bool = True
    limit: Decimal | None = None  # metered only
    enforcement: Enforcement = Enforcement.HARD
    overage: Decimal = ZERO  # how far past the limit a hard limit still lets usage go
    config: str | None = None  # static: overrides the feature's value (canonical JSON)
    effective_at: datetime | None = None
    expires_at: datetime | None = None
    stop_at_zero_credit: bool = False  # metered: no prepaid credit left means no access


@dataclass(frozen=True, slots=True)
class MeteredState:
    """What the store says about one metered grant's current window."""

    usage: Decimal
    reserved: Decimal
    extra: Decimal  # one-off grants of the window, added to the limit
    window_start: datetime
    resets_at: datetime
    credit_exhausted: bool = False


@dataclass(frozen=True, slots=True)
class Access:
    """The answer to "may this customer use this feature now?"."""

    feature: Feature
    has_access: bool
    reason: Reason
    usage: Decimal | None = None
    reserved: Decimal | None = None
    limit: Decimal | None = None  # the grant's limit plus the window's extra grants
    balance: Decimal | None = None  # limit - usage - reserved (negative past the limit)
    headroom: Decimal | None = None  # what a hard limit still lets through (with overage)
    resets_at: datetime | None = None
    enforcement: Enforcement | None = None
    config: str | None = None

    def allows(self, quantity: Decimal) -> bool:
        """Whether ``quantity`` more may be used (or reserved) now."""
        if not self.has_access:
            return False
        if self.headroom is None or self.enforcement is not Enforcement.HARD:
            return True
        return quantity <= self.headroom


def grant_reason(grant: Grant | None, now: datetime) -> Reason:
    """Whether the grant stands at ``now``, before any usage is looked at."""
    if grant is None:
        return Reason.NO_GRANT
    if not grant.enabled:
        return Reason.DISABLED
    if grant.effective_at is not None and now < grant.effective_at:
        return Reason.NOT_YET_EFFECTIVE
    if grant.expires_at is not None and now >= grant.expires_at:
        return Reason.EXPIRED
    return Reason.OK


def evaluate(
    feature: Feature, grant: Grant | None, now: datetime, metered: MeteredState | None = None
) -> Access:
    """Access to ``feature`` under ``grant`` at ``now`` (``metered`` for a metered one)."""
    reason = grant_reason(grant, now)
    config = grant.config if grant and grant.config is not None else feature.config
    if reason is not Reason.OK or grant is None:
        return Access(feature, False, reason, config=config if feature.config else None)
    if feature.kind is not FeatureKind.METERED or metered is None or grant.limit is None:
        return Access(
            feature, True, Reason.OK, config=config if feature.kind is FeatureKind.STATIC else None
        )
    return _metered_access(feature, grant, metered)


def _metered_access(feature: Feature, grant: Grant, state: MeteredState) -> Access:
    assert grant.limit is not None
    limit = ARITHMETIC.add(grant.limit, state.extra)
    used = ARITHMETIC.add(state.usage, state.reserved)
    balance = ARITHMETIC.subtract(limit, used)
    headroom = max(ARITHMETIC.add(balance, grant.overage), ZERO)
    if grant.enforcement is Enforcement.HARD:
        has_access = headroom > ZERO
        reason = Reason.OK if has_access else Reason.LIMIT_REACHED
    else:
        has_access = True
        reason = Reason.OK if balance > ZERO else Reason.OVER_SOFT_LIMIT
    if state.credit_exhausted and grant.stop_at_zero_credit:
        has_access, reason = False, Reason.NO_CREDIT
    return Access(
        feature,
        has_access,
        reason,
        usage=state.usage,
        reserved=state.reserved,
        limit=limit,
        balance=balance,
        headroom=headroom,
        resets_at=state.resets_at,
        enforcement=grant.enforcement,
    )


def canonical_config(value: Any) -> str:
    """A JSON configuration value as compact, key-sorted text (raises ``ValueError`` for
    NaN, infinities and anything JSON cannot hold)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
