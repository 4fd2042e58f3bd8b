"""Stripe's JSON answers read into the port's records (``stripe/records.py``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.service.ports.stripe import InvoiceLine, StripeCallError
from stripemeter_server.stripe.errors import translated_errors
from stripemeter_server.stripe.records import invoice_line, usage_summary


def test_a_line_names_the_item_under_parent_on_newer_api_versions() -> None:
    line = invoice_line(
        {
            "id": "il_1",
            "amount": 617,
            "quantity": 1,
            "parent": {"invoice_item_details": {"invoice_item": "ii_1"}},
        }
    )
    assert line.invoice_item_id == "ii_1"


def test_a_line_names_the_item_at_the_top_on_older_api_versions() -> None:
    assert invoice_line({"id": "il_1", "invoice_item": "ii_2"}).invoice_item_id == "ii_2"


def test_a_line_prefers_the_decimal_quantity_and_keeps_metadata_as_text() -> None:
    line = invoice_line(
        {
            "id": "il_1",
            "amount": 617,
            "quantity": 1234,
            "quantity_decimal": "1234.5",
            "metadata": {"k": "v"},
        }
    )
    assert line == InvoiceLine("il_1", None, 617, Decimal("1234.5"), {"k": "v"})


def test_a_line_amount_that_is_not_an_integer_is_unknown() -> None:
    assert invoice_line({"id": "il_1", "amount": "617"}).amount is None


def test_a_quantity_that_is_not_a_number_is_a_bad_response_not_a_crash() -> None:
    with pytest.raises(StripeCallError) as caught, translated_errors():
        invoice_line({"id": "il_1", "quantity_decimal": "many"})
    assert caught.value.code == "stripe_bad_response"


def test_a_summary_without_a_period_has_no_bounds() -> None:
    summary = usage_summary({"total_usage": 7})
    assert (summary.period_start_s, summary.period_end_s, summary.total_usage) == (None, None, 7)
