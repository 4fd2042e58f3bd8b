"""Reconciliation statuses: one rule decides each line; drift is exact."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.push_plan import from_units, to_units
from stripemeter_server.domain.reconciliation import (
    Comparison,
    InvoiceLineCheck,
    LineStatus,
    absolute_drift,
    classify,
    classify_invoice_line,
    invoice_money_at_stake,
    needs_attention,
    relative_drift,
    tolerance_for,
)

D = Decimal
EXACT = tolerance_for(0)


def test_tolerance_is_half_a_pushed_unit() -> None:
    assert (tolerance_for(0), tolerance_for(3)) == (D("0.5"), D("0.0005"))


def test_equal_values_are_ok() -> None:
    assert classify(Comparison(D(10), D(10), D(10)), EXACT) is LineStatus.OK


def test_a_difference_still_in_the_outbox_is_pending_not_drift() -> None:
    assert classify(Comparison(D(15), D(10), D(10), in_flight=True), EXACT) is LineStatus.PENDING


def test_a_difference_with_nothing_in_flight_is_drift() -> None:
    assert classify(Comparison(D(15), D(10), D(10)), EXACT) is LineStatus.DRIFT


def test_stripe_differing_from_what_was_sent_is_drift_even_with_pushes_in_flight() -> None:
    assert classify(Comparison(D(15), D(10), D(12), in_flight=True), EXACT) is LineStatus.DRIFT


def test_usage_stripe_never_got_is_missing_in_stripe() -> None:
    assert classify(Comparison(D(5), None, None), EXACT) is LineStatus.MISSING_IN_STRIPE


def test_usage_only_stripe_has_is_missing_locally() -> None:
    assert classify(Comparison(None, None, D(3)), EXACT) is LineStatus.MISSING_LOCALLY


def test_a_whole_number_metric_must_match_exactly() -> None:
    assert classify(Comparison(D(100), D(100), D(101)), EXACT) is LineStatus.DRIFT


def test_drift_is_stripe_minus_ledger_and_relative_to_the_ledger() -> None:
    c = Comparison(D(200), D(200), D(150))
    assert (absolute_drift(c), relative_drift(c)) == (D(-50), D("-0.25"))


def test_relative_drift_of_an_empty_ledger_is_undefined() -> None:
    assert relative_drift(Comparison(None, None, D(3))) is None


decimals = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False)


@given(decimals, st.integers(min_value=0, max_value=6))
def test_a_correct_push_at_any_precision_reconciles_ok(local: Decimal, precision: int) -> None:
    scale = D(10) ** precision
    sent = from_units(to_units(local, scale), scale)
    assert classify(Comparison(local, sent, sent), tolerance_for(precision)) is LineStatus.OK


@given(decimals, decimals)
def test_repairing_by_the_drift_makes_the_line_ok(local: Decimal, stripe: Decimal) -> None:
    repaired = stripe - absolute_drift(Comparison(local, stripe, stripe))
    assert classify(Comparison(local, repaired, repaired), EXACT) is LineStatus.OK


# --- invoice lines -------------------------------------------------------------------------


def line(
    local: str | None, expected: str | None, stripe: str | None, amount: str | None
) -> InvoiceLineCheck:
    def d(x: str | None) -> Decimal | None:
        return None if x is None else D(x)

    return InvoiceLineCheck(d(local), d(expected), d(stripe), d(amount))


def test_an_invoice_line_billing_the_ledger_is_ok() -> None:
    assert classify_invoice_line(line("12", "30.00", "12", "30.00"), EXACT) is LineStatus.OK


def test_an_invoice_line_with_the_wrong_amount_is_drift_even_with_the_right_quantity() -> None:
    check = line("12", "30.00", "12", "31.00")
    assert (classify_invoice_line(check, EXACT), invoice_money_at_stake(check)) == (
        LineStatus.DRIFT,
        D("1.00"),
    )


def test_a_missing_line_for_billable_usage_is_missing_in_stripe() -> None:
    check = line("12", "30.00", None, None)
    assert (classify_invoice_line(check, EXACT), invoice_money_at_stake(check)) == (
        LineStatus.MISSING_IN_STRIPE,
        D("-30.00"),
    )


def test_no_line_for_no_usage_is_ok_and_a_line_for_none_is_missing_locally() -> None:
    assert (
        classify_invoice_line(line("0", "0", None, None), EXACT),
        classify_invoice_line(line("0", "0", "3", "1.50"), EXACT),
    ) == (LineStatus.OK, LineStatus.MISSING_LOCALLY)


def test_a_stripe_priced_line_is_compared_on_quantity_only() -> None:
    assert classify_invoice_line(line("7", None, "7", "0.21"), EXACT) is LineStatus.OK


@given(
    st.decimals(min_value=1, max_value=10**9, places=6, allow_nan=False),
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
)
def test_an_exact_line_is_ok_and_any_other_amount_is_drift(
    quantity: Decimal, amount: Decimal
) -> None:
    good = InvoiceLineCheck(abs(quantity), amount, abs(quantity), amount)
    bad = InvoiceLineCheck(abs(quantity), amount, abs(quantity), amount + D("0.01"))
    assert (classify_invoice_line(good, EXACT), classify_invoice_line(bad, EXACT)) == (
        LineStatus.OK,
        LineStatus.DRIFT,
    )


def test_only_ok_and_pending_need_no_attention() -> None:
    assert [s.value for s in LineStatus if needs_attention(s)] == [
        "drift",
        "missing_in_stripe",
        "missing_locally",
    ]
