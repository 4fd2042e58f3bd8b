"""EventsRepository: insert once per key, fingerprints, flags, voids, filtered pages and
streams in ledger order, the rebuild's counting rows, and backfill flags and tallies."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.domain.periods import Period
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def entry(
    key: str,
    ts_us: int = 100,
    customer: str = "cus_1",
    metric: str = "calls",
    backfill: str | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        key,
        metric,
        customer,
        Decimal("1.5"),
        ts_us,
        7,
        None,
        None,
        f"fp-{key}",
        False,
        False,
        None,
        None,
        backfill,
    )


def insert(store: AnyStore, *entries: LedgerEntry) -> set[str]:
    with store.unit_of_work(TENANT) as uow:
        inserted = uow.events.insert_new(list(entries))
        uow.commit()
    return set(inserted)


def keys(events: object) -> list[str]:
    return [e.idempotency_key for e in events]  # type: ignore[attr-defined]


def test_insert_new_keeps_the_first_row_of_a_key(any_store: AnyStore) -> None:
    first = insert(any_store, entry("a"), entry("b"))
    replay = insert(any_store, entry("a")._replace(fingerprint="other"))
    later = insert(any_store, entry("c"))
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        prints = uow.events.fingerprints(["a", "c", "zz"])
    assert (first, replay, later, prints) == ({"a", "b"}, set(), {"c"}, {"a": "fp-a", "c": "fp-c"})


def test_a_batch_mixing_new_and_stored_keys_reports_exactly_the_new_ones(
    any_store: AnyStore,
) -> None:
    insert(any_store, entry("b"), entry("d"))
    mixed = insert(any_store, entry("a"), entry("b"), entry("c"), entry("d"), entry("e"))
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        stored = sorted(uow.events.fingerprints(["a", "b", "c", "d", "e"]))
    assert (mixed, stored) == ({"a", "c", "e"}, ["a", "b", "c", "d", "e"])


def test_a_batch_of_stored_keys_reports_none(any_store: AnyStore) -> None:
    insert(any_store, entry("a"), entry("b"))
    assert insert(any_store, entry("b"), entry("a")) == set()


def test_a_stored_event_reads_back_with_its_values(any_store: AnyStore) -> None:
    insert(any_store, entry("a", ts_us=123))
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.events.get("a")
        missing = uow.events.get("nope")
    assert found is not None and missing is None
    assert (
        found.metric,
        found.customer_ref,
        found.quantity,
        found.ts_us,
        found.received_us,
        found.late,
        found.voided_us,
    ) == ("calls", "cus_1", Decimal("1.5"), 123, 7, False, None)


def test_flags_and_voids_change_only_the_named_events(any_store: AnyStore) -> None:
    insert(any_store, entry("a"), entry("b"), entry("c"))
    with any_store.unit_of_work(TENANT) as uow:
        uow.events.mark_late(["a"])
        uow.events.mark_late_after_close(["b"])
        uow.events.void("c", 99)
        uow.events.void_many(["b"], 98)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        got = [
            (e.late, e.late_after_close, e.voided_us)
            for e in map(uow.events.get, ["a", "b", "c"])
            if e is not None
        ]
    assert got == [(True, False, None), (False, True, 98), (False, False, 99)]


def test_page_filters_and_keeps_ledger_order(any_store: AnyStore) -> None:
    insert(
        any_store,
        entry("a", 10),
        entry("b", 20, "cus_2"),
        entry("c", 30),
        entry("d", 40, metric="gb"),
    )
    with any_store.unit_of_work(TENANT) as uow:
        uow.events.void("c", 1)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        calls = keys(uow.events.page(EventFilter(metric="calls"), 10))
        cus_1 = keys(uow.events.page(EventFilter(customer_ref="cus_1", include_void=False), 10))
        window = keys(uow.events.page(EventFilter(ts_from_us=20, ts_to_us=40), 10))
        first_two = uow.events.page(EventFilter(), 2)
        after = keys(uow.events.page(EventFilter(after_seq=first_two[-1].seq), 10))
    assert (calls, cus_1, window, keys(first_two), after) == (
        ["a", "b", "c"],
        ["a", "d"],
        ["b", "c"],
        ["a", "b"],
        ["c", "d"],
    )


def test_stream_yields_every_match_across_batches(any_store: AnyStore) -> None:
    insert(any_store, *(entry(f"k{i:02}") for i in range(7)))
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        streamed = keys(uow.events.stream(EventFilter(), batch=3))
    assert streamed == [f"k{i:02}" for i in range(7)]


def test_counting_rows_skip_voids_and_open_backfill_sessions(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.backfills.add(BackfillRecord("open", "calls", None, None, None, "open", None, "k", 1))
        uow.backfills.add(BackfillRecord("done", "calls", None, None, None, "closed", None, "k", 1))
        uow.commit()
    insert(
        any_store,
        entry("a"),
        entry("b", backfill="open"),
        entry("c", backfill="done"),
        entry("d"),
        entry("e", metric="gb"),
    )
    with any_store.unit_of_work(TENANT) as uow:
        uow.events.void("d", 1)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        rows = list(uow.events.counting_rows("calls", None, batch=2))
        counting = keys(uow.events.page(EventFilter(only_counting=True), 10))
    assert ([r.idempotency_key for r in rows], counting) == (["a", "c"], ["a", "c", "e"])


def test_backfill_flags_and_tallies(any_store: AnyStore) -> None:
    march = Period(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    inside = int(datetime(2025, 3, 5, tzinfo=UTC).timestamp()) * 1_000_000
    outside = int(datetime(2025, 4, 5, tzinfo=UTC).timestamp()) * 1_000_000
    insert(
        any_store,
        entry("a", inside, backfill="bf"),
        entry("b", inside, backfill="bf"),
        entry("c", outside, backfill="bf"),
        entry("d", inside, "cus_2", backfill="bf"),
    )
    with any_store.unit_of_work(TENANT) as uow:
        uow.events.void("b", 1)
        flagged = uow.events.flag_backfill_range("bf", "cus_1", march, voided_us=5)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        tallies = uow.events.backfill_tallies(["bf", "none"])
        voided = [e.voided_us for e in map(uow.events.get, "abcd") if e is not None]
    assert (flagged, tallies, voided) == (1, {"bf": (4, 2)}, [5, 1, None, None])


def test_every_value_of_a_stored_event_reads_back_exactly(any_store: AnyStore) -> None:
    """Text with quotes, backslashes and non-ASCII, JSON-looking text and decimals in every
    notation are stored as given (PostgreSQL receives the batch as one JSON document)."""
    odd = LedgerEntry(
        'k "1" \\ é ✓',
        "calls",
        '{"not": "json"}',
        Decimal("12345678901234567890.123456789"),
        -5,
        2**62,
        "res\ttab",
        '{"a": [1, "x"]}',
        "fp",
        True,
        True,
        9,
        "req_1",
        "bf_1",
    )
    tiny = entry("tiny")._replace(quantity=Decimal("1E-9"))
    big = entry("big")._replace(quantity=Decimal("1E+3"))
    assert insert(any_store, odd, tiny, big) == {odd.idempotency_key, "tiny", "big"}
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = [uow.events.get(key) for key in (odd.idempotency_key, "tiny", "big")]
    assert [f is not None for f in found] == [True] * 3
    first = found[0]
    assert first is not None
    assert (
        first.customer_ref,
        first.quantity,
        first.ts_us,
        first.received_us,
        first.resource_id,
        first.meta,
        first.late,
        first.voided_us,
    ) == (odd.customer_ref, odd.quantity, -5, 2**62, "res\ttab", odd.meta, True, 9)
    assert [f.quantity for f in found[1:] if f is not None] == [Decimal("1E-9"), Decimal("1E+3")]
