"""Features, customer grants, extra grants and reservations on both stores.

A reservation's balance check is serialised per (tenant, customer, feature) by the grant's
row: ``lock`` takes it ``FOR UPDATE`` on PostgreSQL; on SQLite every writing transaction
already holds the one write lock (``BEGIN IMMEDIATE``), so the lock clause is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.domain.entitlements import Grant
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.entitlements.ports import (
    HELD,
    BalanceWindow,
    CustomerFeatures,
    ExtraGrant,
    GrantRecord,
    GrantView,
    Reservation,
    StoredFeature,
    WindowBalance,
)
from stripemeter_server.service.operations.ports import AuditRecord
from stripemeter_server.storage import entitlement_balances
from stripemeter_server.storage.entitlement_balance import window_balance
from stripemeter_server.storage.entitlement_holds import add_hold
from stripemeter_server.storage.entitlement_stamped import (
    StampedGrantsRepository as StampedGrantsRepository,
)
from stripemeter_server.storage.entitlement_views import grant_record, lock_view, view, views
from stripemeter_server.storage.schema import (
    entitlement_extras,
    entitlement_grants,
    entitlement_reservations,
    features,
)
from stripemeter_server.storage.sql_dialect import SqlDialect

# The hot reads' statements, built once with bound parameters (ADR 0860): building a
# ``select(...).where(...)`` per call cost more CPU than running it on SQLite.
_FEATURE = select(features).where(
    features.c.tenant_id == bindparam("tenant"), features.c.feature_key == bindparam("key")
)
_GRANT = select(entitlement_grants).where(
    entitlement_grants.c.tenant_id == bindparam("tenant"),
    entitlement_grants.c.customer_ref == bindparam("customer"),
    entitlement_grants.c.feature_key == bindparam("feature"),
)
_EXTRAS = (
    select(entitlement_extras)
    .where(
        entitlement_extras.c.tenant_id == bindparam("tenant"),
        entitlement_extras.c.customer_ref == bindparam("customer"),
        entitlement_extras.c.feature_key == bindparam("feature"),
        entitlement_extras.c.window_start_us == bindparam("start"),
    )
    .order_by(entitlement_extras.c.created_us, entitlement_extras.c.extra_id)
)
_HOLDS = entitlement_reservations
_RESERVATION_BY_ID = select(_HOLDS).where(
    _HOLDS.c.tenant_id == bindparam("tenant"), _HOLDS.c.reservation_id == bindparam("value")
)
_RESERVATION_BY_KEY = select(_HOLDS).where(
    _HOLDS.c.tenant_id == bindparam("tenant"), _HOLDS.c.idempotency_key == bindparam("value")
)
_HELD = select(_HOLDS.c.quantity).where(
    _HOLDS.c.tenant_id == bindparam("tenant"),
    _HOLDS.c.customer_ref == bindparam("customer"),
    _HOLDS.c.feature_key == bindparam("feature"),
    _HOLDS.c.status == HELD,
    _HOLDS.c.expires_us > bindparam("now"),
)


class FeaturesRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def put(self, key: str, kind: str, definition: str, now_us: int) -> bool:
        existed = self.get(key) is not None
        stmt = self._dialect.upsert(features).values(
            tenant_id=self._tenant,
            feature_key=key,
            kind=kind,
            definition=definition,
            created_us=now_us,
            updated_us=now_us,
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "feature_key"],
                set_={"kind": kind, "definition": definition, "updated_us": now_us},
            )
        )
        return not existed

    def get(self, key: str) -> StoredFeature | None:
        row = self._conn.execute(_FEATURE, {"tenant": self._tenant, "key": key}).first()
        return _feature(row._mapping) if row else None

    def list(self) -> list[StoredFeature]:
        query = (
            select(features)
            .where(features.c.tenant_id == self._tenant)
            .order_by(features.c.feature_key)
        )
        return [_feature(row._mapping) for row in self._conn.execute(query)]

    def delete(self, key: str) -> bool:
        result = self._conn.execute(
            delete(features).where(
                features.c.tenant_id == self._tenant, features.c.feature_key == key
            )
        )
        return bool(result.rowcount)


def _feature(row: Any) -> StoredFeature:
    return StoredFeature(
        row["feature_key"], row["kind"], row["definition"], row["created_us"], row["updated_us"]
    )


class GrantsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def put(self, grant: Grant, now_us: int) -> bool:
        existed = self.get(grant.customer_ref, grant.feature) is not None
        values = _grant_values(grant)
        stmt = self._dialect.upsert(entitlement_grants).values(
            tenant_id=self._tenant,
            customer_ref=grant.customer_ref,
            feature_key=grant.feature,
            created_us=now_us,
            updated_us=now_us,
            **values,
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "customer_ref", "feature_key"],
                set_={**values, "updated_us": now_us},
            )
        )
        return not existed

    def get(self, customer_ref: str, feature: str) -> GrantRecord | None:
        return self._one(_GRANT, customer_ref, feature)

    def lock(self, customer_ref: str, feature: str) -> GrantRecord | None:
        return self._one(self._dialect.lock_rows(_GRANT), customer_ref, feature)

    def _one(self, query: Any, customer_ref: str, feature: str) -> GrantRecord | None:
        params = {"tenant": self._tenant, "customer": customer_ref, "feature": feature}
        row = self._conn.execute(query, params).first()
        return grant_record(row._mapping) if row else None

    def view(self, customer_ref: str, feature: str) -> GrantView:
        return view(self._conn, self._tenant, customer_ref, feature)

    def lock_view(self, customer_ref: str, feature: str) -> GrantView | None:
        return lock_view(self._conn, self._dialect, self._tenant, customer_ref, feature)

    def views(self, customer_ref: str) -> CustomerFeatures:
        return views(self._conn, self._tenant, customer_ref)

    def balances(
        self, customer_ref: str, windows: Sequence[BalanceWindow], now_us: int
    ) -> dict[str, WindowBalance]:
        if not windows:
            return {}
        return entitlement_balances.balances(
            self._conn, self._tenant, customer_ref, windows, now_us
        )

    def for_customer(self, customer_ref: str) -> list[GrantRecord]:
        query = (
            select(entitlement_grants)
            .where(
                entitlement_grants.c.tenant_id == self._tenant,
                entitlement_grants.c.customer_ref == customer_ref,
            )
            .order_by(entitlement_grants.c.feature_key)
        )
        return [grant_record(row._mapping) for row in self._conn.execute(query)]

    def delete(self, customer_ref: str, feature: str) -> bool:
        result = self._conn.execute(
            delete(entitlement_grants).where(
                entitlement_grants.c.tenant_id == self._tenant,
                entitlement_grants.c.customer_ref == customer_ref,
                entitlement_grants.c.feature_key == feature,
            )
        )
        return bool(result.rowcount)

    def add_extra(self, extra: ExtraGrant) -> bool:
        stmt = (
            self._dialect.upsert(entitlement_extras)
            .values(
                tenant_id=self._tenant,
                extra_id=extra.extra_id,
                customer_ref=extra.customer_ref,
                feature_key=extra.feature,
                amount=extra.amount,
                window_start_us=extra.window_start_us,
                window_end_us=extra.window_end_us,
                idempotency_key=extra.idempotency_key,
                note=extra.note,
                created_us=extra.created_us,
            )
            .on_conflict_do_nothing()
        )
        return bool(self._conn.execute(stmt).rowcount)

    def extra_by_key(self, idempotency_key: str) -> ExtraGrant | None:
        row = self._conn.execute(
            select(entitlement_extras).where(
                entitlement_extras.c.tenant_id == self._tenant,
                entitlement_extras.c.idempotency_key == idempotency_key,
            )
        ).first()
        return _extra(row._mapping) if row else None

    def extras(self, customer_ref: str, feature: str, window_start_us: int) -> list[ExtraGrant]:
        params = {
            "tenant": self._tenant,
            "customer": customer_ref,
            "feature": feature,
            "start": window_start_us,
        }
        return [_extra(row._mapping) for row in self._conn.execute(_EXTRAS, params)]


def _grant_values(grant: Grant) -> dict[str, Any]:
    return {
        "enabled": grant.enabled,
        "limit_value": grant.limit,
        "enforcement": grant.enforcement.value,
        "overage": grant.overage,
        "config": grant.config,
        "effective_us": None if grant.effective_at is None else to_micros(grant.effective_at),
        "expires_us": None if grant.expires_at is None else to_micros(grant.expires_at),
        "stop_at_zero_credit": grant.stop_at_zero_credit,
    }


def _extra(row: Any) -> ExtraGrant:
    return ExtraGrant(
        row["extra_id"],
        row["customer_ref"],
        row["feature_key"],
        row["amount"],
        row["window_start_us"],
        row["window_end_us"],
        row["idempotency_key"],
        row["note"],
        row["created_us"],
    )


class ReservationsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def add(self, reservation: Reservation) -> bool:
        """Insert; a taken idempotency key leaves the row out and answers False."""
        stmt = self._dialect.upsert(entitlement_reservations).values(
            tenant_id=self._tenant,
            reservation_id=reservation.reservation_id,
            customer_ref=reservation.customer_ref,
            feature_key=reservation.feature,
            quantity=reservation.quantity,
            status=reservation.status,
            idempotency_key=reservation.idempotency_key,
            created_us=reservation.created_us,
            expires_us=reservation.expires_us,
        )
        return bool(self._conn.execute(stmt.on_conflict_do_nothing()).rowcount)

    def hold(self, reservation: Reservation, entry: AuditRecord) -> bool:
        return add_hold(self._conn, self._dialect, self._tenant, reservation, entry)

    def get(self, reservation_id: str) -> Reservation | None:
        return self._one(_RESERVATION_BY_ID, reservation_id)

    def by_idempotency_key(self, idempotency_key: str) -> Reservation | None:
        return self._one(_RESERVATION_BY_KEY, idempotency_key)

    def _one(self, query: Any, value: str) -> Reservation | None:
        row = self._conn.execute(query, {"tenant": self._tenant, "value": value}).first()
        return _reservation(row._mapping) if row else None

    def held_total(self, customer_ref: str, feature: str, now_us: int) -> Decimal:
        params = {"tenant": self._tenant, "customer": customer_ref, "feature": feature}
        quantities = self._conn.execute(_HELD, {**params, "now": now_us}).scalars()
        return sum(quantities, Decimal(0))  # summed here: exact on both stores

    def window_balance(
        self, metric: str, customer_ref: str, feature: str, window_start_us: int, now_us: int
    ) -> WindowBalance:
        return window_balance(
            self._conn, self._tenant, metric, customer_ref, feature, window_start_us, now_us
        )

    def finish(
        self,
        reservation_id: str,
        status: str,
        now_us: int,
        *,
        committed_quantity: Decimal | None = None,
        event_key: str | None = None,
    ) -> None:
        self._conn.execute(
            update(entitlement_reservations)
            .where(
                entitlement_reservations.c.tenant_id == self._tenant,
                entitlement_reservations.c.reservation_id == reservation_id,
            )
            .values(
                status=status,
                finished_us=now_us,
                committed_quantity=committed_quantity,
                event_key=event_key,
            )
        )


def _reservation(row: Any) -> Reservation:
    return Reservation(
        row["reservation_id"],
        row["customer_ref"],
        row["feature_key"],
        row["quantity"],
        row["status"],
        row["idempotency_key"],
        row["created_us"],
        row["expires_us"],
        row["finished_us"],
        row["committed_quantity"],
        row["event_key"],
    )
