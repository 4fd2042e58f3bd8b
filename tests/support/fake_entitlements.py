"""In-memory features, entitlement grants (with their one-off extras) and reservations,
with the SQL adapter's rules: ``put`` inserts or replaces and answers whether it was new,
keeping the creation time; an extra or a reservation whose idempotency key (or id) is
taken is left out and answers False; ``held_total`` sums the held, unexpired reservations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol

from stripemeter_server.domain.entitlements import Grant
from stripemeter_server.service.catalog.ports.definitions import (
    ApiKeysRepository,
    CustomerRecord,
    KeyStamp,
)
from stripemeter_server.service.entitlements.ports import (
    HELD,
    BalanceWindow,
    CustomerFeatures,
    ExtraGrant,
    FeatureView,
    GrantRecord,
    GrantView,
    Reservation,
    StoredFeature,
    WindowBalance,
)
from stripemeter_server.service.operations.ports import AuditRecord
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter


@dataclass
class EntitlementTables:
    """One tenant's features, grants, extras and reservations."""

    features: dict[str, StoredFeature] = field(default_factory=dict)
    grants: dict[tuple[str, str], GrantRecord] = field(default_factory=dict)
    extras: dict[str, ExtraGrant] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)


class FakeFeatures:
    def __init__(self, tables: EntitlementTables) -> None:
        self._t = tables

    def put(self, key: str, kind: str, definition: str, now_us: int) -> bool:
        kept = self._t.features.get(key)
        created = kept.created_us if kept is not None else now_us
        self._t.features[key] = StoredFeature(key, kind, definition, created, now_us)
        return kept is None

    def get(self, key: str) -> StoredFeature | None:
        return self._t.features.get(key)

    def list(self) -> list[StoredFeature]:
        return [self._t.features[k] for k in sorted(self._t.features)]

    def delete(self, key: str) -> bool:
        return self._t.features.pop(key, None) is not None


class FakeGrants:
    def __init__(
        self,
        tables: EntitlementTables,
        customers: dict[str, CustomerRecord],
        metrics: Mapping[str, str],
        counter: Callable[[CounterKey], StoredCounter | None],
    ) -> None:
        self._t = tables
        # the catalog's and the ledger's, read by ``view``, ``views`` and ``balances`` as
        # the SQL joins read them
        self._customers = customers
        self._metrics = metrics
        self._counter = counter

    def put(self, grant: Grant, now_us: int) -> bool:
        key = (grant.customer_ref, grant.feature)
        kept = self._t.grants.get(key)
        created = kept.created_us if kept is not None else now_us
        self._t.grants[key] = GrantRecord(grant, created, now_us)
        return kept is None

    def get(self, customer_ref: str, feature: str) -> GrantRecord | None:
        return self._t.grants.get((customer_ref, feature))

    def lock(self, customer_ref: str, feature: str) -> GrantRecord | None:
        return self.get(customer_ref, feature)  # one writer: nothing to wait for

    def view(self, customer_ref: str, feature: str) -> GrantView:
        stored = self._t.features.get(feature)
        if stored is None:  # as the SQL read: no feature, nothing else
            return GrantView(None, None, None)
        metric = json.loads(stored.definition).get("metric")
        return GrantView(
            stored,
            self.get(customer_ref, feature),
            self._customers.get(customer_ref),
            self._metrics.get(metric) if isinstance(metric, str) else None,
        )

    def lock_view(self, customer_ref: str, feature: str) -> GrantView | None:
        found = self.view(customer_ref, feature)
        return found if found.grant is not None else None  # one writer: nothing to wait for

    def views(self, customer_ref: str) -> CustomerFeatures:
        found = [
            FeatureView(
                stored,
                self.get(customer_ref, key),
                self._metrics.get(json.loads(stored.definition).get("metric", "")),
            )
            for key, stored in sorted(self._t.features.items())
        ]
        return CustomerFeatures(found, self._customers.get(customer_ref) if found else None)

    def balances(
        self, customer_ref: str, windows: Sequence[BalanceWindow], now_us: int
    ) -> dict[str, WindowBalance]:
        answer = {}
        for w in windows:
            counter = self._counter((w.metric, customer_ref, w.start_us)) if w.counter else None
            extras = sum(
                (e.amount for e in self.extras(customer_ref, w.feature, w.start_us)), Decimal(0)
            )
            answer[w.feature] = WindowBalance(
                counter.state if counter is not None else None,
                extras,
                held_total(self._t, customer_ref, w.feature, now_us),
            )
        return answer

    def for_customer(self, customer_ref: str) -> list[GrantRecord]:
        return [g for (c, _), g in sorted(self._t.grants.items()) if c == customer_ref]

    def delete(self, customer_ref: str, feature: str) -> bool:
        return self._t.grants.pop((customer_ref, feature), None) is not None

    def add_extra(self, extra: ExtraGrant) -> bool:
        key = extra.idempotency_key
        if extra.extra_id in self._t.extras or (key is not None and self.extra_by_key(key)):
            return False
        self._t.extras[extra.extra_id] = extra
        return True

    def extra_by_key(self, idempotency_key: str) -> ExtraGrant | None:
        return next(
            (e for e in self._t.extras.values() if e.idempotency_key == idempotency_key), None
        )

    def extras(self, customer_ref: str, feature: str, window_start_us: int) -> list[ExtraGrant]:
        found = [
            e
            for e in self._t.extras.values()
            if (e.customer_ref, e.feature, e.window_start_us)
            == (customer_ref, feature, window_start_us)
        ]
        return sorted(found, key=lambda e: (e.created_us, e.extra_id))


def held_total(tables: EntitlementTables, customer_ref: str, feature: str, now_us: int) -> Decimal:
    """What unexpired held reservations of the customer's feature hold (``held_total``)."""
    return sum(
        (
            r.quantity
            for r in tables.reservations.values()
            if (r.customer_ref, r.feature, r.status) == (customer_ref, feature, HELD)
            and r.expires_us > now_us
        ),
        Decimal(0),
    )


class FakeReservations:
    def __init__(
        self,
        tables: EntitlementTables,
        counters: dict[CounterKey, StoredCounter],
        audit: list[tuple[str, AuditRecord]],
        tenant_id: str,
    ) -> None:
        self._t = tables
        self._counters = counters  # the ledger's, read by ``window_balance`` as the SQL does
        self._audit = audit  # every tenant's audit log, written by ``hold`` as the SQL does
        self._tenant = tenant_id

    def add(self, reservation: Reservation) -> bool:
        if reservation.reservation_id in self._t.reservations or self.by_idempotency_key(
            reservation.idempotency_key
        ):
            return False
        # the insert stores what a new reservation has: no finish yet
        self._t.reservations[reservation.reservation_id] = replace(
            reservation, finished_us=None, committed_quantity=None, event_key=None
        )
        return True

    def hold(self, reservation: Reservation, entry: AuditRecord) -> bool:
        if not self.add(reservation):
            return False
        self._audit.append((self._tenant, entry))
        return True

    def get(self, reservation_id: str) -> Reservation | None:
        return self._t.reservations.get(reservation_id)

    def by_idempotency_key(self, idempotency_key: str) -> Reservation | None:
        return next(
            (r for r in self._t.reservations.values() if r.idempotency_key == idempotency_key), None
        )

    def held_total(self, customer_ref: str, feature: str, now_us: int) -> Decimal:
        return held_total(self._t, customer_ref, feature, now_us)

    def finish(
        self,
        reservation_id: str,
        status: str,
        now_us: int,
        *,
        committed_quantity: Decimal | None = None,
        event_key: str | None = None,
    ) -> None:
        found = self._t.reservations.get(reservation_id)
        if found is not None:
            self._t.reservations[reservation_id] = replace(
                found,
                status=status,
                finished_us=now_us,
                committed_quantity=committed_quantity,
                event_key=event_key,
            )

    def window_balance(
        self, metric: str, customer_ref: str, feature: str, window_start_us: int, now_us: int
    ) -> WindowBalance:
        counter = self._counters.get((metric, customer_ref, window_start_us))
        extras = sum(
            (
                e.amount
                for e in self._t.extras.values()
                if (e.customer_ref, e.feature, e.window_start_us)
                == (customer_ref, feature, window_start_us)
            ),
            Decimal(0),
        )
        held = self.held_total(customer_ref, feature, now_us)
        return WindowBalance(counter.state if counter else None, extras, held)


class _StampedRepos(Protocol):
    tenant_id: str

    @property
    def api_keys(self) -> ApiKeysRepository: ...
    @property
    def grants(self) -> FakeGrants: ...


class FakeStampedGrants:
    """The key stamp and the grant's view from the fake's own repositories, as the
    adapter's one statement reads them."""

    def __init__(self, uow: _StampedRepos) -> None:
        self._uow = uow

    def view(self, customer_ref: str, feature: str) -> tuple[KeyStamp, GrantView]:
        uow = self._uow
        return uow.api_keys.stamp(uow.tenant_id), uow.grants.view(customer_ref, feature)

    def lock_view(self, customer_ref: str, feature: str) -> tuple[KeyStamp, GrantView | None]:
        uow = self._uow
        return uow.api_keys.stamp(uow.tenant_id), uow.grants.lock_view(customer_ref, feature)
