"""The invoice webhook flow: webhook events as durable jobs, invoice items, final invoices

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import stripemeter_server.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stripe_webhook_events",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=False),
        sa.Column("processed_us", sa.BigInteger(), nullable=True),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "event_id"),
    )
    op.create_index(
        "ix_stripe_webhook_events_due", "stripe_webhook_events", ["status", "next_attempt_us"]
    )
    op.create_index(
        "ix_stripe_webhook_events_received", "stripe_webhook_events", ["tenant_id", "received_us"]
    )
    op.create_table(
        "stripe_invoice_items",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("period_start_us", sa.BigInteger(), nullable=False),
        sa.Column("period_end_us", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("idempotency_key", sa.String(length=512), nullable=False),
        sa.Column("pricing", sa.String(length=32), nullable=False),
        sa.Column("quantity", stripemeter_server.storage.types.ExactDecimal(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stripe_item_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "metric", "customer_ref", "period_start_us"),
    )
    op.create_index(
        "ix_stripe_invoice_items_invoice", "stripe_invoice_items", ["tenant_id", "invoice_id"]
    )
    op.create_table(
        "stripe_invoices",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("invoice_id", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column("period_start_us", sa.BigInteger(), nullable=False),
        sa.Column("period_end_us", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("number", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("amount_due", sa.BigInteger(), nullable=True),
        sa.Column("finalized_us", sa.BigInteger(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "invoice_id"),
    )
    op.create_index("ix_stripe_invoices_created", "stripe_invoices", ["tenant_id", "created_us"])


def downgrade() -> None:
    op.drop_index("ix_stripe_invoices_created", table_name="stripe_invoices")
    op.drop_table("stripe_invoices")
    op.drop_index("ix_stripe_invoice_items_invoice", table_name="stripe_invoice_items")
    op.drop_table("stripe_invoice_items")
    op.drop_index("ix_stripe_webhook_events_received", table_name="stripe_webhook_events")
    op.drop_index("ix_stripe_webhook_events_due", table_name="stripe_webhook_events")
    op.drop_table("stripe_webhook_events")
