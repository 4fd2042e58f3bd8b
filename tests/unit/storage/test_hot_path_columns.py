"""The raw-driver hot path binds rows by position: its column lists must be the schema's."""

from __future__ import annotations

from dataclasses import fields

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.storage.ledger.counters import STATE_COLUMNS
from stripemeter_server.storage.schema import counters, events


def test_a_ledger_entry_has_every_event_column_but_the_tenant_and_the_sequence() -> None:
    assert set(LedgerEntry._fields) == set(events.c.keys()) - {"tenant_id", "seq"}


def test_counter_state_columns_are_the_counter_state_fields_in_order() -> None:
    assert tuple(f.name for f in fields(CounterState)) == STATE_COLUMNS


def test_every_counter_column_is_a_key_a_period_end_a_state_or_the_update_time() -> None:
    key = {"tenant_id", "metric", "customer_ref", "period_start_us"}
    assert set(counters.c.keys()) == key | {"period_end_us", "updated_us", *STATE_COLUMNS}


def test_the_postgres_rebuild_insert_types_every_state_column() -> None:
    from stripemeter_server.storage.postgres.ledger import _STATE_TYPES

    assert len(_STATE_TYPES) == len(STATE_COLUMNS)


def test_a_push_state_is_read_by_the_table_column_order() -> None:
    from stripemeter_server.storage.schema.pushes import push_state

    assert tuple(push_state.c.keys()) == (
        "tenant_id",
        "metric",
        "customer_ref",
        "period_start_us",
        "period_end_us",
        "target",
        "pushed_units",
        "next_seq",
        "last_ts_s",
        "updated_us",
        "counter_updated_us",
    )
