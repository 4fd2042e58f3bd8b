"""The tables. Every table is keyed by ``tenant_id`` first so the schema can be distributed
by tenant (Citus) when one PostgreSQL server is not enough.

Times are integer microseconds since the Unix epoch (UTC): exact, compact, and compared the
same way on both stores. The migrations in ``migrations/versions`` create exactly these.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from stripemeter_server.storage.types import ExactDecimal

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("name", String(255), nullable=True),
    Column("auto_create_metrics", Boolean, nullable=False, default=False),
    Column("created_us", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("key_id", String(64), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", String(64), nullable=False),
    Column("label", String(255), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
    Column("expires_us", BigInteger, nullable=True),  # a rotation's grace end (0008)
)

metrics = Table(
    "metrics",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("code", String(255), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("stripe_customer_id", String(255), nullable=True),
    Column("anchor_day", Integer, nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tenant_id", String(255), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("metric", String(255), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("received_us", BigInteger, nullable=False),
    Column("resource_id", String(255), nullable=True),
    Column("meta", Text, nullable=True),
    Column("fingerprint", String(32), nullable=False),
    Column("late", Boolean, nullable=False, default=False),
    Column("late_after_close", Boolean, nullable=False, default=False),
    Column("voided_us", BigInteger, nullable=True),
    Column("request_id", String(64), nullable=True),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_events_tenant_key"),
    Index("ix_events_tenant_metric_customer_ts", "tenant_id", "metric", "customer_ref", "ts_us"),
    Index("ix_events_tenant_seq", "tenant_id", "seq"),
)

counters = Table(
    "counters",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("period_end_us", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("sum", ExactDecimal, nullable=False),
    Column("max", ExactDecimal, nullable=True),
    Column("min", ExactDecimal, nullable=True),
    Column("latest_value", ExactDecimal, nullable=True),
    Column("latest_ts_us", BigInteger, nullable=True),
    Column("latest_key", String(255), nullable=True),
    Column("unique_count", BigInteger, nullable=False),
    Column("adjustments", ExactDecimal, nullable=False),
    Column("late_out", ExactDecimal, nullable=False),
    Column("watermark_us", BigInteger, nullable=True),
    Column("late_count", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_counters_tenant_customer", "tenant_id", "customer_ref", "period_start_us"),
)

counter_uniques = Table(
    "counter_uniques",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("value", String(512), primary_key=True),
)

period_locks = Table(
    "period_locks",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("period_end_us", BigInteger, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("final_value", ExactDecimal, nullable=True),
    Column("closed_us", BigInteger, nullable=False),
)

adjustments = Table(
    "adjustments",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("adjustment_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("delta", ExactDecimal, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("note", Text, nullable=True),
    Column("actor", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("event_key", String(255), nullable=True),
    Column("source_period_start_us", BigInteger, nullable=True),
    Column("reverts", String(64), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_adjustments_counter", "tenant_id", "metric", "customer_ref", "period_start_us"),
)

# --- prices and alerts (migration 0002) ---------------------------------------------------

prices = Table(
    "prices",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    # '' is the metric's default price; any other value is that customer's override.
    Column("customer_ref", String(255), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("rule_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=True),
    Column("customer_ref", String(255), nullable=True),
    Column("definition", Text, nullable=False),
    Column("webhook_url", Text, nullable=True),
    Column("secret", String(255), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

alert_sequences = Table(
    "alert_sequences",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("metric", String(255), nullable=True),
    Column("period_start_us", BigInteger, nullable=False),
    Column("period_end_us", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint(
        "tenant_id", "rule_id", "customer_ref", "period_start_us", name="uq_alert_events_once"
    ),
    UniqueConstraint("tenant_id", "event_id", name="uq_alert_events_id"),
)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("delivery_id", String(64), primary_key=True),
    Column("event_seq", BigInteger, nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_alert_outbox_due", "status", "next_attempt_us"),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("delivery_id", String(64), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("event_seq", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("attempted_us", BigInteger, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("duration_us", BigInteger, nullable=False),
    Column("next_attempt_us", BigInteger, nullable=True),
    Index("ix_alert_deliveries_event", "tenant_id", "event_seq"),
)

# --- Stripe account, mappings and the customer cache (migration 0003) -----------------------

stripe_accounts = Table(
    "stripe_accounts",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    # Encrypted at rest (storage/secret_box.py); never returned or logged.
    Column("secret_key_enc", Text, nullable=False),
    Column("webhook_secret_enc", Text, nullable=True),
    Column("api_base", String(255), nullable=True),
    Column("key_last4", String(4), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

stripe_mappings = Table(
    "stripe_mappings",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

stripe_customers = Table(
    "stripe_customers",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("stripe_customer_id", String(255), nullable=False),
    Column("looked_up_us", BigInteger, nullable=False),
    Index("ix_stripe_customers_stripe_id", "tenant_id", "stripe_customer_id"),
)

# --- reconciliation runs and the invoice gate (migration 0006) --------------------------------

reconciliation_settings = Table(
    "reconciliation_settings",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("gate", String(16), nullable=False),  # off | report | hold
    Column("lead_seconds", BigInteger, nullable=False),  # scheduled run before a close
    Column("updated_us", BigInteger, nullable=False),
)

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("run_id", String(64), primary_key=True),
    Column("trigger", String(16), nullable=False),  # manual | schedule | invoice
    Column("filters", Text, nullable=False),  # JSON: period, metric, customerRef, invoice
    Column("repair", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("progress_done", BigInteger, nullable=False),
    Column("progress_total", BigInteger, nullable=True),
    Column("summary", Text, nullable=True),  # JSON, written when done
    Column("error", Text, nullable=True),
    Column("lease_until_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("started_us", BigInteger, nullable=True),
    Column("finished_us", BigInteger, nullable=True),
    Index("ix_reconciliation_runs_created", "tenant_id", "created_us"),
    Index("ix_reconciliation_runs_status", "status", "created_us"),
)

reconciliation_lines = Table(
    "reconciliation_lines",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("run_id", String(64), primary_key=True),
    Column("line_no", BigInteger, primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("metric", String(255), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("period_end_us", BigInteger, nullable=False),
    Column("local_value", ExactDecimal, nullable=True),
    Column("pushed_value", ExactDecimal, nullable=True),
    Column("stripe_value", ExactDecimal, nullable=True),
    Column("absolute_drift", ExactDecimal, nullable=False),
    Column("relative_drift", ExactDecimal, nullable=True),
    Column("status", String(24), nullable=False),
    Column("money_at_stake", ExactDecimal, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("action", String(32), nullable=True),  # repaired | credit_note_needed | …
    Column("note", Text, nullable=True),
    Column("invoice_id", String(255), nullable=True),  # invoice_items lines and the gate
    Column("expected_amount", ExactDecimal, nullable=True),  # from the ledger and the price
    Column("stripe_amount", ExactDecimal, nullable=True),  # what the invoice line bills
    Column("status_after", String(24), nullable=True),  # the re-check after a repair
    Index("ix_reconciliation_lines_status", "tenant_id", "run_id", "status"),
)

# The invoice gate's verdict per draft invoice: agreed | held | reported | released.
reconciliation_invoices = Table(
    "reconciliation_invoices",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("invoice_id", String(255), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("gate", String(16), nullable=False),  # the setting the verdict was made under
    Column("run_id", String(64), nullable=False),  # the run that made it
    Column("drift_lines", Integer, nullable=False),
    Column("money_at_stake", ExactDecimal, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_reconciliation_invoices_state", "state", "updated_us"),
)

# --- the invoice webhook flow (migration 0005) ---------------------------------------------

# Every signed Stripe webhook event received, as a durable job: recorded in the request's
# transaction (deduplicated by Stripe's event id), then processed after the commit and by the
# worker loop. ``next_attempt_us`` is both the due time and the lease: a claim moves it forward.
stripe_webhook_events = Table(
    "stripe_webhook_events",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("event_type", String(255), nullable=False),
    Column("object_id", String(255), nullable=True),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | done | ignored | failed
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("received_us", BigInteger, nullable=False),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("processed_us", BigInteger, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_stripe_webhook_events_due", "status", "next_attempt_us"),
    Index("ix_stripe_webhook_events_received", "tenant_id", "received_us"),
)

# One row per billed (metric, customer, period): the intent is written before Stripe is
# called, so the key can never be used for a second item; ``request`` holds the exact
# parameters so a retry sends the identical call (Stripe's idempotency replay needs that).
stripe_invoice_items = Table(
    "stripe_invoice_items",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("period_end_us", BigInteger, nullable=False),
    Column("invoice_id", String(255), nullable=False),
    Column("stripe_customer_id", String(255), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("idempotency_key", String(512), nullable=False),
    Column("pricing", String(32), nullable=False),  # price | stripe_price | unit_amount | none
    Column("quantity", ExactDecimal, nullable=False),
    Column("amount", BigInteger, nullable=True),  # minor units; Stripe's once created
    Column("currency", String(3), nullable=True),
    Column("request", Text, nullable=True),
    Column("status", String(16), nullable=False),  # pending | created | skipped | failed
    Column("stripe_item_id", String(255), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_stripe_invoice_items_invoice", "tenant_id", "invoice_id"),
)

# The Stripe invoices the flow added usage to: recorded as drafts on ``invoice.created`` and
# completed (number, totals, status) on ``invoice.finalized``.
stripe_invoices = Table(
    "stripe_invoices",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("invoice_id", String(255), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("stripe_customer_id", String(255), nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("period_end_us", BigInteger, nullable=False),
    Column("currency", String(3), nullable=True),
    Column("number", String(255), nullable=True),
    Column("status", String(32), nullable=False),
    Column("subtotal", BigInteger, nullable=True),
    Column("total", BigInteger, nullable=True),
    Column("amount_due", BigInteger, nullable=True),
    Column("finalized_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_stripe_invoices_created", "tenant_id", "created_us"),
)

# --- delta push: per-counter push state, the push outbox, subscription items (0004) --------

push_state = Table(
    "push_state",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("period_end_us", BigInteger, nullable=False),
    # What the pushed total refers to (``meter_events:<event name>`` or
    # ``usage_records:<price>``): a mapping moved to a new target starts from nothing there.
    Column("target", String(255), nullable=False),
    # Whole units Stripe has once every outbox row of this counter is sent.
    Column("pushed_units", ExactDecimal, nullable=True),
    Column("next_seq", Integer, nullable=False),
    Column("last_ts_s", BigInteger, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
)

push_outbox = Table(
    "push_outbox",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    # The deterministic identifier (meter event ``identifier`` and idempotency key).
    Column("push_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("period_end_us", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("transport", String(16), nullable=False),
    # Meter event name, or the subscription item (filled in before the first send).
    Column("target", String(255), nullable=True),
    Column("stripe_customer_id", String(255), nullable=True),
    Column("value", ExactDecimal, nullable=False),
    Column("pushed_after", ExactDecimal, nullable=False),
    Column("timestamp_s", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_error_code", String(64), nullable=True),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("lease_until_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("sent_us", BigInteger, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_push_outbox_due", "status", "next_attempt_us"),
    Index("ix_push_outbox_counter", "tenant_id", "metric", "customer_ref", "period_start_us"),
    Index("ix_push_outbox_list", "tenant_id", "created_us", "push_id"),
)

stripe_subscription_items = Table(
    "stripe_subscription_items",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("subscription_item_id", String(255), nullable=False),
    Column("period_start_s", BigInteger, nullable=True),
    # ``override`` (set through the API, never replaced by a lookup) or ``lookup`` (cached).
    Column("source", String(16), nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

# The planner finds changed counters by ``updated_us`` (migration 0004).
Index("ix_counters_tenant_updated", counters.c.tenant_id, counters.c.updated_us)
# --- corrections: backfill sessions, four-eyes approvals, rebuild jobs (migration 0007) -----

# An event ingested inside a backfill session carries the session's id; it counts only once
# the session is closed (storage/events_repo.py turns that into one SQL condition).
events.append_column(Column("backfill_id", String(64), nullable=True))
Index("ix_events_tenant_backfill", events.c.tenant_id, events.c.backfill_id)

backfills = Table(
    "backfills",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("backfill_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=False),
    # JSON array of customerRefs the session may hold, or NULL for any customer.
    Column("customers", Text, nullable=True),
    Column("ts_from_us", BigInteger, nullable=True),
    Column("ts_to_us", BigInteger, nullable=True),
    # open | pending (close awaits a second key) | closed (counting) | reverted | rejected
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("created_by", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("close_requested_by", String(255), nullable=True),
    Column("close_requested_us", BigInteger, nullable=True),
    Column("closed_by", String(255), nullable=True),
    Column("closed_us", BigInteger, nullable=True),
    Column("reverted_by", String(255), nullable=True),
    Column("reverted_us", BigInteger, nullable=True),
    # JSON: what the close (or revert) did — events counted, effects booked forward, voided.
    Column("report", Text, nullable=True),
    Index("ix_backfills_tenant_status", "tenant_id", "status"),
)

corrections_policy = Table(
    "corrections_policy",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("four_eyes", Boolean, nullable=False),
    Column("updated_by", String(255), nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

approvals = Table(
    "approvals",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    # the adjustment id (adj_…) or backfill id (bf_…) decided on; one decision each
    Column("subject_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("requested_by", String(255), nullable=False),
    Column("requested_us", BigInteger, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("decided_by", String(255), nullable=False),
    Column("decided_us", BigInteger, nullable=False),
    Column("note", Text, nullable=True),
)

rebuild_jobs = Table(
    "rebuild_jobs",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("job_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=False),
    Column("customer_ref", String(255), nullable=True),
    # running | succeeded | failed
    Column("status", String(16), nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("counters", BigInteger, nullable=False),
    Column("skipped", BigInteger, nullable=False),
    Column("error", Text, nullable=True),
    Column("requested_by", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("finished_us", BigInteger, nullable=True),
)

# --- operations: audit log, per-tenant rate limits, worker heartbeats (migration 0008) -------

# Who changed what, when, with the state before and after (JSON; secrets only as "changed").
# Written by ``service/audit.py`` in the same transaction as the change it describes.
audit_log = Table(
    "audit_log",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("audit_id", String(64), primary_key=True),
    Column("created_us", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),  # an API key id, ``cli`` or ``system``
    Column("action", String(64), nullable=False),  # e.g. ``api_key.revoke``
    Column("target_type", String(64), nullable=False),
    Column("target_id", String(512), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("request_id", String(64), nullable=True),
    Index("ix_audit_log_page", "tenant_id", "created_us", "audit_id"),
)

# One token bucket per tenant, shared by every node (PostgreSQL: the row is locked for the
# few statements of the admission transaction). ``rate_per_second``/``burst`` NULL: the
# deployment's defaults; a rate of 0: unlimited.
tenant_rate_limits = Table(
    "tenant_rate_limits",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("rate_per_second", Float, nullable=True),
    Column("burst", Float, nullable=True),
    Column("tokens", Float, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

# A row per background loop per process, beaten by the loop itself: ``/health/ready`` fails
# when a loop's freshest beat is stale (not tenant data: a local table on Citus).
worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", String(128), primary_key=True),
    Column("loop", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("beat_us", BigInteger, nullable=False),
    Index("ix_worker_heartbeats_loop", "loop", "beat_us"),
)
