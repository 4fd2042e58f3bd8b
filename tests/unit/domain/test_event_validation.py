"""Event validation: one specific code and field per problem."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import EventRejected
from stripemeter_server.domain.events import EventLimits, validate_event

NOW = datetime(2025, 1, 16, 14, 30, tzinfo=UTC)
BASE = {"metric": "api_calls", "customerRef": "cus_1", "ts": "2025-01-16T14:00:00Z"}


def check(raw: object) -> tuple[str, str | None]:
    with pytest.raises(EventRejected) as info:
        validate_event(raw, tenant_id="t", received_at=NOW, limits=EventLimits())
    return info.value.code, info.value.field


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"metric": None}, ("missing_field", "metric")),
        ({"customerRef": ""}, ("missing_field", "customerRef")),
        ({"customerRef": 12}, ("invalid_field", "customerRef")),
        ({"customerRef": "a\x00b"}, ("invalid_field", "customerRef")),
        ({"resourceId": "r" * 256}, ("field_too_long", "resourceId")),
        ({"quantity": "NaN"}, ("invalid_quantity", "quantity")),
        ({"quantity": "Infinity"}, ("invalid_quantity", "quantity")),
        ({"quantity": True}, ("invalid_quantity", "quantity")),
        ({"quantity": "-1"}, ("invalid_quantity", "quantity")),
        ({"quantity": "0.0000000000001"}, ("invalid_quantity", "quantity")),
        ({"quantity": "123456789012345678901"}, ("invalid_quantity", "quantity")),
        ({"ts": "2025-01-16 14:00"}, ("invalid_timestamp", "ts")),
        ({"ts": 1737036000}, ("invalid_timestamp", "ts")),
        ({"ts": "2025-01-16T14:35:01Z"}, ("timestamp_in_future", "ts")),
        ({"meta": [1]}, ("invalid_meta", "meta")),
        ({"meta": {"x": "y" * 5000}}, ("meta_too_large", "meta")),
        ({"idempotencyKey": ""}, ("invalid_idempotency_key", "idempotencyKey")),
    ],
)
def test_each_problem_has_its_code_and_field(
    change: dict[str, object], expected: tuple[str, str]
) -> None:
    assert check({**BASE, **change}) == expected


def test_a_non_object_event_is_rejected() -> None:
    assert check("nope") == ("invalid_event", None)


def test_quantity_defaults_to_one_and_ts_to_the_receive_time() -> None:
    event = validate_event(
        {"metric": "m", "customerRef": "c"}, tenant_id="t", received_at=NOW, limits=EventLimits()
    )
    assert (event.quantity, event.ts) == (Decimal(1), NOW)


def test_five_minutes_ahead_is_still_accepted() -> None:
    event = validate_event(
        {**BASE, "ts": "2025-01-16T14:35:00Z"}, tenant_id="t", received_at=NOW, limits=EventLimits()
    )
    assert event.ts == datetime(2025, 1, 16, 14, 35, tzinfo=UTC)


def test_equal_quantities_in_different_notation_give_the_same_key() -> None:
    keys = {
        validate_event(
            {**BASE, "quantity": q}, tenant_id="t", received_at=NOW, limits=EventLimits()
        ).idempotency_key
        for q in ["1.50", "1.5", Decimal("1.500")]
    }
    assert len(keys) == 1


def test_a_payload_without_ts_fingerprints_without_the_receive_time() -> None:
    first = validate_event(
        {"metric": "m", "customerRef": "c", "idempotencyKey": "k"},
        tenant_id="t",
        received_at=NOW,
        limits=EventLimits(),
    )
    later = validate_event(
        {"metric": "m", "customerRef": "c", "idempotencyKey": "k"},
        tenant_id="t",
        received_at=NOW.replace(minute=31),
        limits=EventLimits(),
    )
    assert first.fingerprint == later.fingerprint
