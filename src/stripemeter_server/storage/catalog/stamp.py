"""The tenant's catalog stamp, and the store's copy of each tenant's metrics and alert rules.

Ingest read the tenant's metric definitions and alert rules in every group: two statements,
two round trips on PostgreSQL, for rows that change a few times a day (ADR 0934). A number
on the tenant's row, ``tenants.catalog_version``, counts the transactions that changed
either; each group reads it in the statement that reads its key stamp, and a copy read under
the same number is still the catalog (ADR 0947).

Why it is exact: every write of a metric or an alert rule first increments the number, once
per transaction, in the same transaction (``CatalogView.changing``), so the new number
becomes visible exactly when the change does. A copy is filled by a transaction that read
the number first and the rows after it: the rows are at least as new as the number, and a
transaction that read the same number began before any later change committed, so the rows
it is given are ones it could have read itself (READ COMMITTED: each statement its own
snapshot). A transaction that changed the catalog neither uses nor fills a copy: it reads
its own uncommitted rows. Taking the tenant's row first, before any catalog row, keeps the
lock order of two catalog writers one and the same (no deadlock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.service.alerts.ports import AlertRuleRecord
from stripemeter_server.storage.schema import tenants

# The number alone (``:tenant`` bound), to be selected beside the key stamp.
CATALOG_VERSION = (
    select(tenants.c.catalog_version)
    .where(tenants.c.tenant_id == bindparam("tenant"))
    .scalar_subquery()
)
_BUMP = (
    update(tenants)
    .where(tenants.c.tenant_id == bindparam("tenant"))
    .values(catalog_version=tenants.c.catalog_version + 1)
)


@dataclass(frozen=True, slots=True)
class _Copy:
    version: int
    metrics: dict[str, str] | None
    rules: tuple[AlertRuleRecord, ...] | None


class CatalogCache:
    """One per store (process): each tenant's catalog as last read, under its number. Entries
    are replaced whole, never changed, so threads sharing it need no lock (a lost race is
    only a miss)."""

    def __init__(self) -> None:
        self._copies: dict[str, _Copy] = {}

    def get(self, tenant_id: str, version: int) -> _Copy | None:
        copy = self._copies.get(tenant_id)
        return copy if copy is not None and copy.version == version else None

    def put(self, tenant_id: str, version: int, **parts: Any) -> None:
        known = self.get(tenant_id, version)
        metrics = parts.get("metrics", known.metrics if known else None)
        rules = parts.get("rules", known.rules if known else None)
        self._copies[tenant_id] = _Copy(version, metrics, rules)


class CatalogView:
    """One transaction's view of its tenant's catalog stamp: the number it read (``None``:
    not read, or no tenant row) and whether it changed the catalog itself."""

    def __init__(self, cache: CatalogCache, tenant_id: str) -> None:
        self._cache = cache
        self._tenant = tenant_id
        self._version: int | None = None
        self._changed = False

    def seen(self, tenant_id: str, version: int | None) -> None:
        """The number as the key stamp's statement read it (for this transaction's tenant)."""
        if tenant_id == self._tenant:
            self._version = version

    def changing(self, conn: Connection) -> None:
        """Call before writing a metric or an alert rule: the first call of the transaction
        increments the number (the tenant's row, locked until commit)."""
        if not self._changed:
            conn.execute(_BUMP, {"tenant": self._tenant})
            self._changed = True

    def _usable(self) -> _Copy | None:
        if self._changed or self._version is None:
            return None
        return self._cache.get(self._tenant, self._version)

    def metrics(self) -> dict[str, str] | None:
        copy = self._usable()
        return None if copy is None or copy.metrics is None else dict(copy.metrics)

    def rules(self) -> list[AlertRuleRecord] | None:
        copy = self._usable()
        return None if copy is None or copy.rules is None else list(copy.rules)

    def keep_metrics(self, metrics: dict[str, str]) -> None:
        if not self._changed and self._version is not None:
            self._cache.put(self._tenant, self._version, metrics=dict(metrics))

    def keep_rules(self, rules: list[AlertRuleRecord]) -> None:
        if not self._changed and self._version is not None:
            self._cache.put(self._tenant, self._version, rules=tuple(rules))
