"""The plain-event fast path accepts exactly what the full validator accepts, with the same
result; it never rejects (errors always come from the full checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.errors import EventRejected
from stripemeter_server.domain.events import (
    EventLimits,
    _accept_plain,
    validate_event,
    validate_fully,
)
from stripemeter_server.domain.idempotency import payload_fingerprint

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LIMITS = EventLimits()

identifiers = st.one_of(
    st.text(min_size=0, max_size=8),
    st.text(alphabet="abc-_/", min_size=1, max_size=8),
    st.sampled_from(["", "a\x00b", "\ud800", "é", "x" * 256, "m"]),
    st.integers(),
    st.none(),
)
quantities = st.one_of(
    st.sampled_from(["1", "1.5", "-1", "1e3", "NaN", "", " 2 ", "0.0000000000001", "1" * 21]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**22), max_value=10**22),
    st.floats(),
    st.booleans(),
    st.none(),
)
timestamps = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.sampled_from(
        [
            "2026-11-30T11:00:00Z",
            "2026-11-30T11:00:00.000000Z",
            "2026-11-30T11:00:00.123456Z",
            "0999-11-30T11:00:00.123456Z",
            "2026-11-30T11:00:00.123+01:00",
            "2026-11-30T24:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-11-30T11:00:60Z",
            "2026-11-30t11:00:00z",
            "2026-11-30 11:00:00Z",
            "2026-11-30T11:00:00",
            "2026-11-30T11:00:00.1234567Z",
            "2026-11-30T12:10:00Z",
            "0000-01-01T00:00:00Z",
            "2026-11-30T11:00:00-19:59",
        ]
    ),
    st.integers(),
    st.none(),
)


@st.composite
def raw_events(draw: st.DrawFn) -> object:
    event: dict[str, object] = {}
    for name, values in (
        ("metric", identifiers),
        ("customerRef", identifiers),
        ("quantity", quantities),
        ("ts", timestamps),
        ("idempotencyKey", identifiers),
        ("resourceId", identifiers),
        ("backfillId", identifiers),
    ):
        if draw(st.booleans()):
            event[name] = draw(values)
    if draw(st.integers(0, 9)) == 0:
        event["meta"] = draw(st.sampled_from([{}, {"a": 1}, None, []]))
    return event if draw(st.integers(0, 19)) else draw(st.sampled_from([[], "x", None, 3]))


@settings(max_examples=600, deadline=None)
@given(raw_events())
def test_the_fast_path_agrees_with_the_full_checks(raw: object) -> None:
    fast = _accept_plain(raw, "t_1", NOW, LIMITS)
    try:
        full = validate_fully(raw, tenant_id="t_1", received_at=NOW, limits=LIMITS)
    except EventRejected:
        assert fast is None
        return
    assert fast is None or fast == full


@settings(max_examples=200, deadline=None)
@given(raw_events())
def test_validate_event_gives_the_full_checks_result_or_error(raw: object) -> None:
    try:
        full = validate_fully(raw, tenant_id="t_1", received_at=NOW, limits=LIMITS)
    except EventRejected as expected:
        try:
            validate_event(raw, tenant_id="t_1", received_at=NOW, limits=LIMITS)
        except EventRejected as got:
            assert (got.code, got.field, got.message) == (
                expected.code,
                expected.field,
                expected.message,
            )
            return
        raise AssertionError("validate_event accepted what the full checks reject") from None
    assert validate_event(raw, tenant_id="t_1", received_at=NOW, limits=LIMITS) == full


def test_a_plain_event_takes_the_fast_path() -> None:
    raw = {
        "metric": "api_calls",
        "customerRef": "c_1",
        "quantity": "2.5",
        "ts": "2026-11-30T11:00:00.5+01:00",
        "idempotencyKey": "k1",
    }
    fast = _accept_plain(raw, "t_1", NOW, LIMITS)
    assert fast is not None
    assert fast.ts == datetime(2026, 11, 30, 10, 0, 0, 500_000, tzinfo=UTC)
    assert fast.ts.tzinfo is UTC
    assert fast.quantity == Decimal("2.5")


def test_a_canonical_ts_is_hashed_as_formatting_it_would_give() -> None:
    """The fast path hashes a ``…ffffffZ`` text as sent; it is the canonical text."""
    for ts in ("2026-11-30T11:00:00.000000Z", "2026-11-30T11:00:00.123450Z"):
        raw = {"metric": "api_calls", "customerRef": "c_1", "quantity": "2.50", "ts": ts}
        fast = _accept_plain(raw, "t_1", NOW, LIMITS)
        assert fast is not None
        assert fast.fingerprint == payload_fingerprint(
            metric="api_calls",
            customer_ref="c_1",
            resource_id=None,
            ts=fast.ts,
            quantity=Decimal("2.5"),
            meta=None,
        )
