"""The batch plain path accepts only what the full validator accepts, with the very same
event, and never rejects (ADR 0968): its ``None`` sends an event to the full checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.errors import EventRejected
from stripemeter_server.domain.event_batches import accept_plain_batch
from stripemeter_server.domain.events import EventLimits, _accept_plain, validate_fully
from tests.unit.domain.test_event_fast_path import raw_events

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LIMITS = EventLimits()

plain_events = st.fixed_dictionaries(
    {
        "metric": st.sampled_from(["api_calls", "m", "a\x00b", "é", "", "m" * 257]),
        "customerRef": st.text(alphabet='ab"\\ 1', min_size=1, max_size=4),
        "quantity": st.one_of(
            st.decimals(min_value=0, max_value=10**6, places=3), st.integers(0, 10), st.none()
        ),
        "ts": st.datetimes(
            min_value=datetime(2026, 11, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
        ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    },
    optional={
        # Keys off the usual shape too (escaped, non-ASCII, NUL, too long): ADR 0976 checks
        # the usual one inline and sends the rest through ``_plain_ids``.
        "idempotencyKey": st.one_of(
            st.text(alphabet="k0123", min_size=1, max_size=6),
            st.text(alphabet='k"\\\x00é ', min_size=0, max_size=4),
            st.sampled_from(["k" * 255, "k" * 256]),
        ),
        "resourceId": st.sampled_from(["r1", "r/2", "r\x00"]),
        "backfillId": st.just("bf_1"),
    },
)


def _expected(raw: object, received: datetime) -> object:
    try:
        return validate_fully(raw, tenant_id="t_1", received_at=received, limits=LIMITS)
    except EventRejected:
        return None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(raw_events(), plain_events), max_size=12),
    st.lists(st.sampled_from([NOW, NOW - timedelta(hours=1)]), min_size=12, max_size=12),
)
def test_the_batch_path_agrees_with_the_full_checks(
    raws: list[object], times: list[datetime]
) -> None:
    received = times[: len(raws)]
    got = accept_plain_batch(raws, "t_1", received, LIMITS)
    assert len(got) == len(raws)
    for raw, at, event in zip(raws, received, got, strict=True):
        full = _expected(raw, at)
        if full is None:
            assert event is None
        else:
            assert event is None or event == full
            assert event is None or event.ts.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(st.lists(plain_events, min_size=1, max_size=8))
def test_the_batch_path_accepts_what_the_single_fast_path_accepts(raws: list[object]) -> None:
    """Not only correct but as eager: a plain event does not fall back to the full checks."""
    got = accept_plain_batch(raws, "t_1", [NOW] * len(raws), LIMITS)
    for raw, event in zip(raws, got, strict=True):
        assert event == _accept_plain(raw, "t_1", NOW, LIMITS)


def test_a_headline_event_is_accepted_in_the_batch() -> None:
    raw = {
        "metric": "api_calls",
        "customerRef": "c_1",
        "quantity": Decimal("2.50"),
        "ts": "2026-11-30T11:00:00.000000Z",
        "idempotencyKey": "k1",
    }
    (event,) = accept_plain_batch([raw], "t_1", [NOW], LIMITS)
    assert event is not None
    assert event == validate_fully(raw, tenant_id="t_1", received_at=NOW, limits=LIMITS)
