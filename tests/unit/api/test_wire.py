"""Wire declarations: documented from themselves, and the keys they let through."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.api.schemas.catalog import METRIC_SHAPE, MetricChange, PriceChange
from stripemeter_server.api.schemas.ingest import IngestBatch
from stripemeter_server.api.wire import declared, field_names, refuses_unknown, schema_of, shape_of

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
KEYS = st.sampled_from([*sorted(METRIC_SHAPE.keys), "zz", "extra", "perod"])
PERIOD_KEYS = st.sampled_from(["type", "anchorDay", "timezone", "zz"])
PERIODS = st.dictionaries(PERIOD_KEYS, JSON_SCALARS, max_size=4)
BODIES = st.dictionaries(KEYS, JSON_SCALARS | PERIODS, max_size=8)


def test_a_schema_names_its_keys_as_spelled_on_the_wire() -> None:
    schema = schema_of(MetricChange)
    assert set(schema["properties"]) == field_names(MetricChange)
    assert {"displayName", "latePolicy", "tenantId"} <= set(schema["properties"])


def test_a_schema_inlines_nested_declarations() -> None:
    events = schema_of(IngestBatch)["properties"]["events"]
    assert "$ref" not in str(events) and "backfillId" in events["items"]["properties"]


def test_a_strict_declaration_forbids_other_keys_in_its_schema() -> None:
    assert refuses_unknown(PriceChange)
    assert schema_of(PriceChange)["additionalProperties"] is False


@given(BODIES)
def test_only_declared_keys_pass_at_every_level(body: dict[str, Any]) -> None:
    kept = declared(METRIC_SHAPE, body)
    assert set(kept) <= METRIC_SHAPE.keys
    period = kept.get("period")
    if isinstance(period, dict):
        assert set(period) <= {"type", "anchorDay", "timezone"}


@given(BODIES)
def test_declared_keys_keep_their_values(body: dict[str, Any]) -> None:
    kept = declared(METRIC_SHAPE, body)
    assert all(kept[k] == v for k, v in body.items() if k in kept and k != "period")


@given(JSON_SCALARS | st.lists(JSON_SCALARS, max_size=3))
def test_what_is_not_an_object_is_left_for_the_parsers(value: Any) -> None:
    assert declared(shape_of(MetricChange), value) == value
