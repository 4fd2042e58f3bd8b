"""Mappings: the API shape is validated once; every error names its field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.domain.stripe_mapping import (
    MeterFormula,
    SyncMode,
    Transport,
    mapping_from_dict,
    mapping_to_dict,
    meter_formula,
)


def test_defaults_are_v1_meter_events_in_whole_units() -> None:
    mapping = mapping_from_dict({"metric": "api_calls"})
    assert (mapping.mode, mapping.transport, mapping.precision) == (
        SyncMode.METER_EVENTS,
        Transport.V1,
        0,
    )
    assert mapping.event_name == "api_calls"
    assert mapping.scale == Decimal(1)


def test_round_trip_through_the_api_shape() -> None:
    raw = {
        "metric": "gb",
        "mode": "invoice_items",
        "meterEventName": None,
        "transport": "v1",
        "precision": 3,
        "price": None,
        "unitAmount": "0.5",
        "currency": "usd",
        "description": "Storage",
        "tolerance": "0.002",
    }
    assert mapping_to_dict(mapping_from_dict(raw)) == raw


def test_precision_sets_the_unit_scale() -> None:
    assert mapping_from_dict({"metric": "gb", "precision": 3}).scale == Decimal(1000)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"metric": "m", "mode": "push"}, "mode"),
        ({"metric": "m", "transport": "v3"}, "transport"),
        ({"metric": "m", "precision": 13}, "precision"),
        ({"metric": "m", "precision": True}, "precision"),
        ({"metric": "m", "precision": "2"}, "precision"),
        ({"metric": "m", "meterEventName": "has space"}, "meterEventName"),
        ({"metric": "m", "meterEventName": "x" * 101}, "meterEventName"),
        ({"metric": "m", "unitAmount": "-1", "currency": "usd"}, "unitAmount"),
        ({"metric": "m", "unitAmount": "abc", "currency": "usd"}, "unitAmount"),
        ({"metric": "m", "unitAmount": "1"}, "currency"),
        ({"metric": "m", "currency": "dollars"}, "currency"),
        ({"metric": "m", "mode": "usage_records"}, "price"),
        ({"metric": "m", "mode": "invoice_items", "transport": "v2_stream"}, "transport"),
        ({"metric": "m", "price": "price with spaces"}, "price"),
        ({"metric": "m", "surprise": 1}, "surprise"),
        ({"metric": ""}, "metric"),
        ({"metric": "a\x00b"}, "metric"),
        ({}, "metric"),
    ],
)
def test_invalid_fields_are_named(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        mapping_from_dict(raw)
    assert caught.value.field == field


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        mapping_from_dict(["metric"])
    assert caught.value.code == "invalid_body"


@pytest.mark.parametrize(
    ("aggregation", "formula"),
    [
        (Aggregation.SUM, MeterFormula.SUM),
        (Aggregation.COUNT, MeterFormula.SUM),
        (Aggregation.UNIQUE_COUNT, MeterFormula.SUM),
        (Aggregation.LATEST, MeterFormula.LAST),
        (Aggregation.MAX, MeterFormula.LAST),
        (Aggregation.MIN, MeterFormula.LAST),
        (Aggregation.AVG, MeterFormula.LAST),
    ],
)
def test_meter_formula_per_aggregation(aggregation: Aggregation, formula: MeterFormula) -> None:
    assert meter_formula(aggregation) is formula
