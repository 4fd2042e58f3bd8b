"""Stripe's answers as the port's records: the one place that knows their JSON shapes.

Each function reads only the fields a use case needs; a field of an unexpected type raises
``TypeError``/``ValueError``/``KeyError``, which the gateway's ``translated_errors`` turns
into a ``stripe_bad_response`` error (never a 500).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stripemeter_server.service.ports.stripe import (
    InvoiceItem,
    InvoiceLine,
    MeterAggregation,
    MeterInfo,
    MeterStatus,
)


def plain(obj: Any) -> dict[str, Any]:
    result: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return result


@dataclass(frozen=True, slots=True)
class UsageRecordSummary:
    """One legacy usage-record summary of a subscription item (a period and its total)."""

    period_start_s: int | None
    period_end_s: int | None
    total_usage: int


def meter_info(meter: Any) -> MeterInfo:
    mapping = meter.customer_mapping
    settings = meter.value_settings
    return MeterInfo(
        meter_id=str(meter.id),
        event_name=str(meter.event_name),
        formula=MeterAggregation(str(meter.default_aggregation.formula)),
        status=MeterStatus(str(meter.status)),
        customer_key=str(getattr(mapping, "event_payload_key", "stripe_customer_id")),
        value_key=str(getattr(settings, "event_payload_key", "value")),
    )


def metadata_of(obj: Mapping[str, Any]) -> dict[str, str]:
    found = obj.get("metadata") or {}
    return {str(k): str(v) for k, v in found.items()}


def optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def invoice_line(line: Mapping[str, Any]) -> InvoiceLine:
    """A line as the flow reads it: the invoice item it shows sits under ``parent`` on
    newer API versions and at the top on older ones."""
    details = (line.get("parent") or {}).get("invoice_item_details") or {}
    item = details.get("invoice_item") or line.get("invoice_item")
    quantity = line.get("quantity_decimal") or line.get("quantity") or 0
    return InvoiceLine(
        line_id=str(line.get("id")),
        invoice_item_id=str(item) if item else None,
        amount=optional_int(line.get("amount")),
        quantity=Decimal(str(quantity)),
        metadata=metadata_of(line),
    )


def invoice_item_of(item: Any) -> InvoiceItem:
    found = plain(item)
    return InvoiceItem(str(found.get("id")), optional_int(found.get("amount")))


def usage_summary(summary: Mapping[str, Any]) -> UsageRecordSummary:
    period = summary.get("period") or {}
    return UsageRecordSummary(
        optional_int(period.get("start")),
        optional_int(period.get("end")),
        int(summary.get("total_usage") or 0),
    )
