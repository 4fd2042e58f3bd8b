"""Any event a client can send is either valid or rejected with its own code — never another
exception, which would fail the whole batch (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.errors import EventRejected
from stripemeter_server.domain.events import EventLimits, validate_event

NOW = datetime(2025, 1, 16, 14, 30, tzinfo=UTC)
nasty_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "x\ud800",
            "a\x00b",
            "\udfff",
            "¹",
            "9999-12-31T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "2025-01-16T14:00:00Z",
            "1e80",
            "1e400",
            "NaN",
        ]
    ),
    st.text(min_size=250, max_size=300),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    nasty_text,
    st.integers(),
    st.integers(min_value=10**300),
    st.floats(),
    st.decimals(),
    st.sampled_from([Decimal("1e999"), Decimal("-1e-999")]),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3),
    max_leaves=10,
)
fields = st.sampled_from(
    ["metric", "customerRef", "quantity", "ts", "resourceId", "meta", "idempotencyKey"]
)
events = st.one_of(
    json_like,
    st.fixed_dictionaries(
        {"metric": st.just("m"), "customerRef": st.just("c")},
        optional={
            "quantity": json_like,
            "ts": json_like,
            "meta": json_like,
            "idempotencyKey": json_like,
            "resourceId": json_like,
        },
    ),
    st.dictionaries(fields, json_like),
)


@given(events)
def test_any_event_is_valid_or_rejected_with_a_code(raw: object) -> None:
    try:
        event = validate_event(raw, tenant_id="t", received_at=NOW, limits=EventLimits())
    except EventRejected as exc:
        assert exc.code
        return
    event.idempotency_key.encode("utf-8")
    event.customer_ref.encode("utf-8")
    assert "\x00" not in event.metric + event.customer_ref + (event.meta_json or "")
