"""In-memory portal and dashboard repositories: portal tokens (found by id across tenants),
a tenant's embedding settings, customers' alert rules, dashboard sessions (found by id
with their key) and the dashboard's bounded reads (ADR 0026).

Mirrors ``storage/portal.py``, ``storage/dashboard_sessions.py`` and
``storage/dashboard.py``: a token is revoked once; ``put_settings`` replaces the origins
wholesale; a session is found only while its key exists (an inner join); the customers the
dashboard lists are those with counters and the registered ones, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from stripemeter_server.service.dashboard.ports import (
    ClosingPeriod,
    SessionRecord,
    SessionWithKey,
    TenantPushStats,
)
from stripemeter_server.service.portal.ports import (
    PortalSettingsRecord,
    PortalTokenRecord,
    TokenState,
    TokenWithKey,
)
from stripemeter_server.service.ports.events import StoredEvent
from stripemeter_server.service.stripe_sync.ports.pushes import FAILED, PENDING
from tests.support.fake_operations import FakeApiKeys, PortalTables, SharedTables
from tests.support.fake_repos import LedgerTables
from tests.support.fake_stripe_sync import StripeTables


class FakePortal:
    def __init__(self, shared: SharedTables, tenant_id: str) -> None:
        self._s = shared
        self._tenant = tenant_id
        self._t = shared.portal.setdefault(tenant_id, PortalTables())

    # --- tokens -----------------------------------------------------------------------

    def add_token(self, record: PortalTokenRecord) -> None:
        key = (record.tenant_id, record.token_id)
        if key in self._s.tokens:
            raise KeyError(f"duplicate token {record.token_id}")  # the primary key
        self._s.tokens[key] = record

    def token_with_key(self, token_id: str) -> TokenWithKey | None:
        token = next((t for k, t in sorted(self._s.tokens.items()) if k[1] == token_id), None)
        if token is None:
            return None
        key = self._s.api_keys.get((token.tenant_id, token.minted_by))
        if key is None:
            return TokenWithKey(token, None, None, False)
        return TokenWithKey(token, key.revoked_us, key.expires_us, True)

    def token_state(self, tenant_id: str, token_id: str) -> TokenState | None:
        token = self._s.tokens.get((tenant_id, token_id))
        if token is None:
            return None
        stamp = FakeApiKeys(self._s).stamp(tenant_id)
        return TokenState(token.revoked_us, stamp, self.origins_of(tenant_id))

    def tokens(self, customer_ref: str | None, limit: int) -> list[PortalTokenRecord]:
        found = [
            t
            for (tenant, _), t in self._s.tokens.items()
            if tenant == self._tenant and customer_ref in (None, t.customer_ref)
        ]
        return sorted(found, key=lambda t: (-t.created_us, t.token_id))[:limit]

    def revoke_token(self, token_id: str, now_us: int) -> bool:
        token = self._s.tokens.get((self._tenant, token_id))
        if token is None or token.revoked_us is not None:
            return False
        self._s.tokens[(self._tenant, token_id)] = replace(token, revoked_us=now_us)
        return True

    def revoke_minted_by(self, tenant_id: str, key_id: str, now_us: int) -> list[str]:
        live = sorted(
            t.token_id
            for (tenant, _), t in self._s.tokens.items()
            if tenant == tenant_id and t.minted_by == key_id and t.revoked_us is None
        )
        for token_id in live:
            token = self._s.tokens[(tenant_id, token_id)]
            self._s.tokens[(tenant_id, token_id)] = replace(token, revoked_us=now_us)
        return live

    # --- settings ---------------------------------------------------------------------

    def settings(self) -> PortalSettingsRecord | None:
        return self._t.settings.get("")

    def put_settings(self, record: PortalSettingsRecord) -> None:
        origins = tuple(sorted(set(record.allowed_origins)))
        self._t.settings[""] = replace(record, allowed_origins=origins)

    def origins_of(self, tenant_id: str) -> tuple[str, ...]:
        tables = self._s.portal.get(tenant_id)
        kept = tables.settings.get("") if tables is not None else None
        return kept.allowed_origins if kept is not None else ()

    def origin_allowed_anywhere(self, origin: str) -> bool:
        return any(origin in self.origins_of(tenant) for tenant in self._s.portal)

    # --- customers' alert rules -------------------------------------------------------

    def add_alert_rule(self, customer_ref: str, rule_id: str, now_us: int) -> None:
        if rule_id in self._t.alert_rules:
            raise KeyError(f"duplicate rule {rule_id}")  # the primary key
        self._t.alert_rules[rule_id] = (customer_ref, now_us)

    def alert_rules(self, customer_ref: str) -> list[str]:
        mine = [
            (at, rule) for rule, (ref, at) in self._t.alert_rules.items() if ref == customer_ref
        ]
        return [rule for _, rule in sorted(mine)]

    def remove_alert_rule(self, customer_ref: str, rule_id: str) -> bool:
        if self._t.alert_rules.get(rule_id, ("", 0))[0] != customer_ref:
            return False
        del self._t.alert_rules[rule_id]
        return True


class FakeDashboardSessions:
    def __init__(self, shared: SharedTables) -> None:
        self._s = shared

    def add(self, record: SessionRecord) -> None:
        if record.session_id in self._s.sessions:
            raise KeyError("duplicate session")  # the unique index on the id
        self._s.sessions[record.session_id] = record

    def find(self, session_id: str) -> SessionWithKey | None:
        session = self._s.sessions.get(session_id)
        key = None if session is None else self._s.api_keys.get((session.tenant_id, session.key_id))
        if session is None or key is None:
            return None
        return SessionWithKey(session, key.scopes, key.revoked_us, key.expires_us)

    def delete(self, session_id: str) -> bool:
        return self._s.sessions.pop(session_id, None) is not None

    def delete_for_key(self, tenant_id: str, key_id: str) -> int:
        doomed = [
            s.session_id
            for s in self._s.sessions.values()
            if s.tenant_id == tenant_id and s.key_id == key_id
        ]
        for session_id in doomed:
            del self._s.sessions[session_id]
        return len(doomed)

    def delete_expired(self, now_us: int, limit: int) -> int:
        doomed = sorted(s for s, r in self._s.sessions.items() if r.expires_us <= now_us)[:limit]
        for session_id in doomed:
            del self._s.sessions[session_id]
        return len(doomed)


class FakeDashboardReads:
    def __init__(
        self, ledger: LedgerTables, stripe: StripeTables, customers: Callable[[], Iterable[str]]
    ) -> None:
        self._ledger = ledger
        self._stripe = stripe
        self._customers = customers

    def _refs(self) -> set[str]:
        return {c.customer_ref for c in self._ledger.counters.values()} | set(self._customers())

    def customer_refs(self, *, prefix: str, after: str | None, limit: int) -> list[str]:
        refs = (r for r in self._refs() if r.startswith(prefix) and (after is None or r > after))
        return sorted(refs)[:limit]

    def customer_known(self, customer_ref: str) -> bool:
        return customer_ref in self._refs()

    def events_newest_first(
        self, *, metric: str | None, customer_ref: str | None, before_seq: int | None, limit: int
    ) -> list[StoredEvent]:
        metrics: set[str] | None = None if metric is None else {metric}
        if customer_ref and metric is None:  # the customer's metrics come from its counters
            metrics = {
                c.metric for c in self._ledger.counters.values() if c.customer_ref == customer_ref
            }
        found = [
            e
            for e in self._ledger.events.values()
            if (metrics is None or e.metric in metrics)
            and (not customer_ref or e.customer_ref == customer_ref)
            and (before_seq is None or e.seq < before_seq)
        ]
        return sorted(found, key=lambda e: e.seq, reverse=True)[:limit]

    def periods_closing(self, now_us: int, until_us: int, limit: int) -> list[ClosingPeriod]:
        groups: dict[tuple[int, str, int], int] = {}
        for c in self._ledger.counters.values():
            if now_us < c.period_end_us <= until_us:
                key = (c.period_end_us, c.metric, c.period_start_us)
                groups[key] = groups.get(key, 0) + 1
        return [
            ClosingPeriod(metric, start, end, n)
            for (end, metric, start), n in sorted(groups.items())
        ][:limit]

    def push_stats(self) -> TenantPushStats:
        rows = self._stripe.outbox.values()
        pending = [r.created_us for r in rows if r.status == PENDING]
        failed = sum(1 for r in rows if r.status == FAILED)
        return TenantPushStats(len(pending), failed, min(pending, default=None))
