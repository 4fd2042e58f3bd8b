"""The ingest group's lookups by key read the rows they are asked for, not the tenant's.

A new store under load has tables the planner has no statistics for yet (autovacuum
analyses a table up to a minute after it fills); joined to the group's keys, such a table
looked small, and PostgreSQL hashed every key, customer and counter of the tenant for each
group — a group of eight single events read the whole ledger's keys (ADR 0943). Here the
tables are filled and never analysed, and on PostgreSQL the transaction's own table
statistics (``pg_stat_xact_user_tables``) count the rows each lookup read. On both stores
the lookups answer exactly what was asked.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, text

from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.storage.schema import customers
from stripemeter_server.storage.unit_of_work import Store, UnitOfWork
from tests.conftest import NOW
from tests.support.ledger import make_tenant

TENANT = "ten_lookups"
ROWS = 5000  # keys, customers and counters each: tables the planner should probe, not read
ASKED = 8
START_US = to_micros(NOW.replace(day=1, hour=0, minute=30))
END_US = START_US + 10**12


def _fill(store: Store) -> None:
    make_tenant(store, TENANT, NOW)
    with store.unit_of_work(TENANT) as uow:
        received = to_micros(NOW)
        stored = uow.events.insert_new(
            [
                LedgerEntry(
                    f"key-{n:05d}",
                    "calls",
                    f"cus_{n:05d}",
                    Decimal(1),
                    received,
                    received,
                    None,
                    None,
                    f"{n:032d}",
                    False,
                    False,
                    None,
                    "req_1",
                    None,
                )
                for n in range(ROWS)
            ]
        )
        assert len(stored) == ROWS
        uow.connection.execute(
            insert(customers),
            [
                {
                    "tenant_id": TENANT,
                    "customer_ref": f"cus_{n:05d}",
                    "anchor_day": 1,
                    "timezone": "UTC",
                    "created_us": received,
                    "updated_us": received,
                }
                for n in range(ROWS)
            ],
        )
        keys = {("calls", f"cus_{n:05d}", START_US): END_US for n in range(ROWS)}
        assert len(uow.counters.lock(keys, received)) == ROWS
        for n in range(ROWS):  # last period closed for every customer, this one for few
            start = START_US - END_US if n % 1000 else START_US
            uow.period_closes.add(_close(f"cus_{n:05d}", start))
        uow.commit()


def _close(customer: str, start: int) -> PeriodClose:
    return PeriodClose("calls", customer, start, start + END_US, "invoice", None, START_US)


def _rows_read(uow: UnitOfWork, table: str) -> int:
    """Rows the connection read from ``table`` and has not reported yet (PostgreSQL; SQLite:
    0): compared before and after a lookup, the rows that lookup read."""
    if uow.connection.dialect.name != "postgresql":
        return 0
    value = uow.connection.execute(
        text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = :table"
        ),
        {"table": table},
    ).scalar()
    return int(value or 0)


def test_a_groups_lookups_read_only_the_rows_asked_for(store: Store) -> None:
    _fill(store)
    picked = range(100, 100 + ASKED * 600, 600)  # spread over the tables
    keys = [f"key-{n:05d}" for n in picked]
    refs = [f"cus_{n:05d}" for n in picked]
    with store.unit_of_work(TENANT) as uow:
        before = {
            t: _rows_read(uow, t) for t in ("event_keys", "customers", "counters", "period_locks")
        }
        fingerprints = uow.events.fingerprints([*keys, "key-missing"])
        assert fingerprints == {f"key-{n:05d}": f"{n:032d}" for n in picked}
        assert _rows_read(uow, "event_keys") - before["event_keys"] <= ASKED

        found = uow.customers.get_many([*refs, "cus_missing"])
        assert sorted(found) == refs
        assert _rows_read(uow, "customers") - before["customers"] <= ASKED

        wanted = [("calls", r, START_US) for r in [*refs, "cus_01000"]]
        assert set(uow.period_closes.find_many(wanted)) == {("calls", "cus_01000", START_US)}
        assert _rows_read(uow, "period_locks") - before["period_locks"] <= ASKED + 2

        locked = uow.counters.lock({("calls", r, START_US): END_US for r in refs}, 0)
        assert sorted(k[1] for k in locked) == refs
        for counter in locked.values():
            counter.state.count += 3
        uow.counters.save(locked.values(), to_micros(NOW))
        # each counter found by its key twice (lock, write-back) and updated once
        assert _rows_read(uow, "counters") - before["counters"] <= 3 * ASKED
        uow.commit()
    with store.unit_of_work(TENANT, read_only=True) as uow:
        counts = {c.customer_ref: c.state.count for c in uow.counters.find(metric="calls")}
    assert {r for r, n in counts.items() if n == 3} == set(refs)
    assert sum(counts.values()) == 3 * ASKED
