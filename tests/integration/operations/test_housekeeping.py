"""The housekeeping worker, on both stores: ingest tallies older than the dashboard shows
are deleted in bounded batches, newer ones and other tenants' recent ones kept; expired
dashboard sessions are deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.dashboard.ports import SessionRecord
from stripemeter_server.service.ingest.ports import IngestTally
from stripemeter_server.service.ingest.tallies import MINUTE_US, RETENTION
from stripemeter_server.service.operations.tenancy import create_tenant
from stripemeter_server.storage.schema import dashboard_sessions, ingest_tallies
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.workers.housekeeping import HousekeepingWorker

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ONE = IngestTally(accepted=1)


def _minutes(store: Store, tenant: str, minutes: range, slots: int = 2) -> None:
    with store.unit_of_work(tenant) as uow:
        if uow.tenants.get(tenant) is None:
            create_tenant(uow, tenant, name=None, auto_create_metrics=False, now=NOW)
        base = to_micros(NOW) // MINUTE_US * MINUTE_US
        for back in minutes:
            for slot in range(slots):
                uow.ingest_tallies.add(base - back * MINUTE_US, ONE, slot)
        uow.commit()


def _rows(store: Store, tenant: str) -> list[int]:
    with store.unit_of_work() as uow:
        c = ingest_tallies.c
        query = select(c.minute_us).where(c.tenant_id == tenant).order_by(c.minute_us)
        return [row.minute_us for row in uow.connection.execute(query)]


def test_tallies_older_than_the_dashboard_shows_are_pruned(store: Store) -> None:
    edge = int(RETENTION.total_seconds() // 60)  # minutes back to the oldest one kept
    _minutes(store, "acme", range(edge - 2, edge + 40))
    before = _rows(store, "acme")
    HousekeepingWorker(store, FrozenClock(NOW), batch=7).run_once()
    cutoff = to_micros(NOW - RETENTION)
    assert _rows(store, "acme") == [m for m in before if m >= cutoff]
    assert len(_rows(store, "acme")) == 2 * 3  # edge - 2, edge - 1 and edge, two slots each


def test_the_last_day_stays_whole(store: Store) -> None:
    _minutes(store, "acme", range(0, 24 * 60, 30))
    before = _rows(store, "acme")
    HousekeepingWorker(store, FrozenClock(NOW)).run_once()
    assert _rows(store, "acme") == before


def test_a_pass_deletes_a_bounded_number_of_rows(store: Store) -> None:
    old = int(RETENTION.total_seconds() // 60) + 10
    _minutes(store, "acme", range(old, old + 100), slots=1)
    swept = HousekeepingWorker(store, FrozenClock(NOW), batch=10, max_batches=3).run_once()
    assert (swept.tallies, len(_rows(store, "acme"))) == (30, 70)


def test_every_tenant_is_pruned(store: Store) -> None:
    old = int(RETENTION.total_seconds() // 60) + 10
    for tenant in ("t1", "t2"):
        _minutes(store, tenant, range(old, old + 3))
    HousekeepingWorker(store, FrozenClock(NOW)).run_once()
    assert (_rows(store, "t1"), _rows(store, "t2")) == ([], [])


def test_expired_dashboard_sessions_are_deleted(store: Store) -> None:
    with store.unit_of_work() as uow:
        for name, ends in (
            ("gone", NOW - timedelta(seconds=1)),
            ("open", NOW + timedelta(hours=1)),
        ):
            uow.dashboard_sessions.add(
                SessionRecord("acme", name, "key_x", "c" * 64, 0, to_micros(ends))
            )
        uow.commit()
    swept = HousekeepingWorker(store, FrozenClock(NOW)).run_once()
    with store.unit_of_work() as uow:
        left = uow.connection.execute(select(dashboard_sessions.c.session_id)).scalars().all()
        count = uow.connection.execute(select(func.count()).select_from(ingest_tallies)).scalar()
    assert (swept.sessions, left, count) == (1, ["open"], 0)
