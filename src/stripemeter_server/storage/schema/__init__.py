"""The tables. Every table is keyed by ``tenant_id`` first so the schema can be distributed
by tenant (Citus) when one PostgreSQL server is not enough.

Times are integer microseconds since the Unix epoch (UTC): exact, compact, and compared the
same way on both stores. The migrations in ``migrations/versions`` create exactly these.
"""

from __future__ import annotations

from stripemeter_server.storage.schema.alerts import (
    alert_deliveries,
    alert_events,
    alert_outbox,
    alert_rules,
    alert_sequences,
    prices,
)
from stripemeter_server.storage.schema.base import metadata
from stripemeter_server.storage.schema.core import (
    adjustments,
    api_keys,
    counter_uniques,
    counters,
    customers,
    events,
    metrics,
    period_locks,
    tenants,
)
from stripemeter_server.storage.schema.corrections import (
    approvals,
    backfills,
    corrections_policy,
    rebuild_jobs,
)
from stripemeter_server.storage.schema.dashboard_sessions import dashboard_sessions
from stripemeter_server.storage.schema.entitlements import (
    credit_grants,
    entitlement_extras,
    entitlement_grants,
    entitlement_reservations,
    features,
)
from stripemeter_server.storage.schema.event_keys import event_keys
from stripemeter_server.storage.schema.ingest_tallies import ingest_tallies
from stripemeter_server.storage.schema.invoice_flow import (
    stripe_invoice_items,
    stripe_invoices,
    stripe_webhook_events,
)
from stripemeter_server.storage.schema.operations import (
    audit_log,
    tenant_rate_limits,
    worker_heartbeats,
)
from stripemeter_server.storage.schema.portal import (
    portal_alert_rules,
    portal_origins,
    portal_settings,
    portal_tokens,
)
from stripemeter_server.storage.schema.pushes import (
    push_outbox,
    push_state,
    stripe_subscription_items,
)
from stripemeter_server.storage.schema.reconciliation import (
    reconciliation_invoices,
    reconciliation_lines,
    reconciliation_runs,
    reconciliation_settings,
)
from stripemeter_server.storage.schema.stripe_accounts import (
    stripe_accounts,
    stripe_customers,
    stripe_mappings,
)

__all__ = [
    "adjustments",
    "alert_deliveries",
    "alert_events",
    "alert_outbox",
    "alert_rules",
    "alert_sequences",
    "api_keys",
    "approvals",
    "audit_log",
    "backfills",
    "corrections_policy",
    "counter_uniques",
    "counters",
    "credit_grants",
    "customers",
    "dashboard_sessions",
    "entitlement_extras",
    "entitlement_grants",
    "entitlement_reservations",
    "event_keys",
    "events",
    "features",
    "ingest_tallies",
    "metadata",
    "metrics",
    "period_locks",
    "portal_alert_rules",
    "portal_origins",
    "portal_settings",
    "portal_tokens",
    "prices",
    "push_outbox",
    "push_state",
    "rebuild_jobs",
    "reconciliation_invoices",
    "reconciliation_lines",
    "reconciliation_runs",
    "reconciliation_settings",
    "stripe_accounts",
    "stripe_customers",
    "stripe_invoice_items",
    "stripe_invoices",
    "stripe_mappings",
    "stripe_subscription_items",
    "stripe_webhook_events",
    "tenant_rate_limits",
    "tenants",
    "worker_heartbeats",
]
