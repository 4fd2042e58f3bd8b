"""Backups: a `pg_dump` of a live database restored with `pg_restore` into an empty one gives
the same ledger, counters and audit log, and counters still rebuild to the same values."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.queries import AuditFilter
from stripemeter_server.service.catalog.definitions import load_metrics
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.corrections.rebuild import rebuild_metric
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage import migrate
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import counters
from tests.support.postgres import PostgresServer, _bin

NOW = datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


def _snapshot(store: Store) -> tuple[object, ...]:
    with store.unit_of_work("default", read_only=True) as uow:
        audit = [
            (e.action, e.target_id) for e in uow.audit.page(AuditFilter(), before=None, limit=1000)
        ]
        keys = [(k.key_id, k.key_hash) for k in uow.api_keys.list()]
    return counters(store, "default"), audit, keys, migrate.current_revision(store.engine)


def test_pg_dump_and_pg_restore_round_trip(pg_server: PostgresServer, tmp_path: Path) -> None:
    source = Store(pg_server.create_database("backup_source"))
    source.migrate()
    with source.unit_of_work("default") as uow:
        bootstrap(uow, NOW, "smk_backup_admin_key_0001", auto_create_metrics=True)
        create_metric(uow, metric_from_dict({"code": "calls", "aggregation": "sum"}), NOW)
        create_metric(
            uow,
            metric_from_dict(
                {"code": "users", "aggregation": "unique_count", "uniqueProperty": "resourceId"}
            ),
            NOW,
        )
        events = [
            {
                "metric": m,
                "customerRef": f"cus_{n % 7}",
                "quantity": n % 5 + 1,
                "resourceId": f"u{n % 11}",
                "ts": "2025-01-10T00:00:00Z",
                "idempotencyKey": f"k{m}{n}",
            }
            for n in range(300)
            for m in ("calls", "users")
        ]
        ingest_batch(uow, events, now=NOW, limits=EventLimits())
        uow.commit()
    dump = tmp_path / "stripemeter.dump"
    base = f"postgresql://postgres@127.0.0.1:{pg_server.port}"
    subprocess.run(
        [
            _bin("pg_dump"),
            "--format=custom",
            "--no-owner",
            f"--file={dump}",
            f"{base}/backup_source",
        ],
        check=True,
    )
    pg_server.create_database("backup_restored")
    subprocess.run(
        [
            _bin("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            f"{base}/backup_restored",
            str(dump),
        ],
        check=True,
    )
    restored = Store(pg_server.url("backup_restored"))
    try:
        assert _snapshot(restored) == _snapshot(source)
        assert migrate.is_up_to_date(restored.engine)
        before = counters(restored, "default")
        with restored.unit_of_work("default") as uow:
            for metric in load_metrics(uow).values():
                rebuild_metric(uow, metric, customer_ref=None, now_us=0)
            uow.commit()
        assert counters(restored, "default") == before  # the restored ledger is whole
    finally:
        restored.close()
        source.close()
