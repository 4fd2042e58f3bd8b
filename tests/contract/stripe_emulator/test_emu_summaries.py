"""Meter event summaries: formulas, windows, alignment and pagination."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.contract.stripe_emulator.stripe_emulator_support import T0, make_meter, send_event

HOUR, DAY = 3600, 86400


def summaries(
    client: stripe.StripeClient, meter: Any, customer: Any, start: int, end: int, **extra: Any
) -> Any:
    return client.v1.billing.meters.event_summaries.list(
        meter.id, params={"customer": customer.id, "start_time": start, "end_time": end, **extra}
    )


def test_sum_formula_adds_values(client: stripe.StripeClient, customer: Any, meter: Any) -> None:
    send_event(client, customer.id, "5", timestamp=T0 - 120)
    send_event(client, customer.id, "2.5", timestamp=T0 - 60)
    page = summaries(client, meter, customer, T0 - HOUR, T0)
    assert [s.aggregated_value for s in page.data] == [7.5]


def test_count_formula_counts_events(client: stripe.StripeClient, customer: Any) -> None:
    meter = make_meter(client, formula="count")
    send_event(client, customer.id, "5", timestamp=T0 - 120)
    send_event(client, customer.id, "9", timestamp=T0 - 60)
    assert summaries(client, meter, customer, T0 - HOUR, T0).data[0].aggregated_value == 2


def test_last_formula_takes_latest_timestamp(client: stripe.StripeClient, customer: Any) -> None:
    meter = make_meter(client, formula="last")
    send_event(client, customer.id, "9", timestamp=T0 - 60)
    send_event(client, customer.id, "4", timestamp=T0 - 120)
    assert summaries(client, meter, customer, T0 - HOUR, T0).data[0].aggregated_value == 9


def test_end_time_is_exclusive(client: stripe.StripeClient, customer: Any, meter: Any) -> None:
    send_event(client, customer.id, "5", timestamp=T0)
    assert summaries(client, meter, customer, T0 - HOUR, T0).data[0].aggregated_value == 0


def test_cancelled_events_are_excluded(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    send_event(client, customer.id, "5", identifier="a", timestamp=T0 - 60)
    send_event(client, customer.id, "3", identifier="b", timestamp=T0 - 60)
    client.v1.billing.meter_event_adjustments.create(
        params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "a"}}
    )
    assert summaries(client, meter, customer, T0 - HOUR, T0).data[0].aggregated_value == 3


def test_other_customers_are_excluded(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    other = client.v1.customers.create(params={"name": "Other"})
    send_event(client, other.id, "5", timestamp=T0 - 60)
    assert summaries(client, meter, customer, T0 - HOUR, T0).data[0].aggregated_value == 0


def test_unaligned_start_time_is_rejected(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        summaries(client, meter, customer, T0 - HOUR + 1, T0)
    assert info.value.param == "start_time"


def test_hour_window_requires_hour_alignment(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        summaries(client, meter, customer, T0 - HOUR + 60, T0, value_grouping_window="hour")


def test_day_window_requires_day_alignment(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        summaries(client, meter, customer, T0 - DAY + HOUR, T0, value_grouping_window="day")


def test_hour_window_groups_oldest_first_with_empty_windows(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    send_event(client, customer.id, "1", timestamp=T0 - 2 * HOUR + 10)
    send_event(client, customer.id, "4", timestamp=T0 - 30)
    page = summaries(client, meter, customer, T0 - 3 * HOUR, T0, value_grouping_window="hour")
    assert [(s.start_time, s.aggregated_value) for s in page.data] == [
        (T0 - 3 * HOUR, 0),
        (T0 - 2 * HOUR, 1),
        (T0 - HOUR, 4),
    ]


def test_pagination_walks_every_bucket_with_stable_ids(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    for hour in range(1, 6):
        send_event(client, customer.id, str(hour), timestamp=T0 - hour * HOUR)
    params = {"value_grouping_window": "hour", "limit": 2}
    first = summaries(client, meter, customer, T0 - DAY, T0, **params)
    walked = [s.id for s in first.auto_paging_iter()]
    again = [
        s.id for s in summaries(client, meter, customer, T0 - DAY, T0, **params).auto_paging_iter()
    ]
    assert first.has_more and len(walked) == 24 and walked == again
