"""`make bench-scale`: the ledger partitioned by month against one plain table, on PostgreSQL.

Two databases on one throwaway PostgreSQL server (fsync on): ``partitioned`` is the schema
the migrations make (``events`` in monthly partitions of ``received_us``, ADR 0810);
``unpartitioned`` is the same schema with ``events`` rebuilt as one plain table (same columns,
key (tenant_id, seq), same indexes; the keys in ``event_keys`` either way, so the only
difference is the partitioning). Each is filled with ``--events`` ledger rows received over
the past twelve months (one tenant, 10 000 customers, one sum metric; straight SQL), then
measured through the service code in this process, one client:

* **ingest**: new events in batches of 500, and single-event batches (each its own
  transaction): events/s and the p50/p99 of a batch;
* **current usage**: a random customer's current-period usage, p50/p99;
* **events page**: the first 100 events of a random customer and the metric (the ledger
  read of the events list and the usage history), p50/p99.

Speed is reported, never asserted. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations.tenancy import create_tenant
from stripemeter_server.service.usage.reads import current_usage
from stripemeter_server.storage.unit_of_work import Store

TENANT = "bench"
METRIC = "bench_sum"
CUSTOMERS = 10_000
MONTHS = 12
MICROS_PER_DAY = 86_400 * 1_000_000

# ``events`` as one plain table again (the benchmark's baseline; the migration's downgrade
# does the same for a real database).
UNPARTITION = [
    "ALTER SEQUENCE events_seq_seq OWNED BY NONE",
    "ALTER TABLE events RENAME TO events_partitioned",
    "ALTER TABLE events_partitioned RENAME CONSTRAINT pk_events TO pk_events_old",
    "ALTER INDEX ix_events_tenant_key RENAME TO ix_events_tenant_key_old",
    "ALTER INDEX ix_events_tenant_metric_customer_ts RENAME TO ix_events_tmct_old",
    "ALTER INDEX ix_events_tenant_backfill RENAME TO ix_events_tenant_backfill_old",
    "CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS)",
    "DROP TABLE events_partitioned",
    "ALTER SEQUENCE events_seq_seq OWNED BY events.seq",
    "ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (tenant_id, seq)",
    "CREATE INDEX ix_events_tenant_key ON events (tenant_id, idempotency_key)",
    "CREATE INDEX ix_events_tenant_metric_customer_ts "
    "ON events (tenant_id, metric, customer_ref, ts_us)",
    "CREATE INDEX ix_events_tenant_backfill ON events (tenant_id, backfill_id)",
]

FILL = """
INSERT INTO events (tenant_id, idempotency_key, metric, customer_ref, quantity, ts_us,
                    received_us, fingerprint, late, late_after_close)
SELECT :tenant, 'fill-' || g, :metric, 'cus_' || (g % :customers), 1.25,
       CAST(:start AS bigint) + g * :step, CAST(:start AS bigint) + g * :step,
       md5(g::text)::varchar(32), false, false
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
"""
FILL_KEYS = """
INSERT INTO event_keys (tenant_id, idempotency_key, fingerprint)
SELECT :tenant, 'fill-' || g, md5(g::text)::varchar(32)
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
"""


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _timed(count: int, action: Callable[[int], None]) -> list[float]:
    took = []
    for n in range(count):
        started = time.perf_counter()
        action(n)
        took.append((time.perf_counter() - started) * 1000)
    return took


def _setup(store: Store, now: datetime, events: int, partitioned: bool) -> None:
    if not partitioned:
        with store.engine.begin() as conn:
            for statement in UNPARTITION:
                conn.execute(text(statement))
    start = now - timedelta(days=30 * MONTHS)
    for step in range(MONTHS * 3 + 1 if partitioned else 0):  # every 10 days: every month
        store.prepare_partitions(to_micros(start + timedelta(days=10 * step)))
    with store.unit_of_work(TENANT) as uow:
        create_tenant(uow, TENANT, name=None, auto_create_metrics=False, now=now)
        create_metric(uow, {"code": METRIC, "aggregation": "sum"}, now)
        uow.commit()
    chunk = 250_000
    for first in range(0, events, chunk):
        last = min(events, first + chunk) - 1
        params = {"tenant": TENANT, "metric": METRIC, "customers": CUSTOMERS,
                  "start": to_micros(start),
                  "step": (to_micros(now) - to_micros(start)) // events,
                  "first": first, "last": last}
        with store.engine.begin() as conn:
            conn.execute(text(FILL), params)
            conn.execute(text(FILL_KEYS), params)
        print(f"  filled {last + 1:,} events", flush=True)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _event(n: int, at: datetime) -> dict[str, Any]:
    return {"metric": METRIC, "customerRef": f"cus_{n % CUSTOMERS}", "quantity": "2.5",
            "ts": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "idempotencyKey": f"new-{uuid.uuid4()}"}


def _ingest(store: Store, now: datetime, batch: int, batches: int) -> dict[str, float]:
    def one(n: int) -> None:
        with store.unit_of_work(TENANT) as uow:
            ingest_batch(uow, [_event(n * batch + i, now) for i in range(batch)], now=now,
                         limits=EventLimits())
            uow.commit()

    took = _timed(batches, one)
    p50, p99 = _percentiles(took)
    return {"events_per_s": batch * batches / (sum(took) / 1000), "p50_ms": p50, "p99_ms": p99}


def _reads(store: Store, now: datetime, count: int) -> dict[str, float]:
    rng = random.Random(7)

    def usage(_n: int) -> None:
        with store.unit_of_work(TENANT, read_only=True) as uow:
            current_usage(uow, f"cus_{rng.randrange(CUSTOMERS)}", now, METRIC)

    def page(_n: int) -> None:
        with store.unit_of_work(TENANT, read_only=True) as uow:
            uow.events.page(EventFilter(metric=METRIC,
                                        customer_ref=f"cus_{rng.randrange(CUSTOMERS)}"), 100)

    usage_p50, usage_p99 = _percentiles(_timed(count, usage))
    page_p50, page_p99 = _percentiles(_timed(count, page))
    return {"usage_p50_ms": usage_p50, "usage_p99_ms": usage_p99,
            "page_p50_ms": page_p50, "page_p99_ms": page_p99}


def run(events: int, batches: int, singles: int, reads: int) -> list[tuple[str, dict[str, float]]]:
    from tests.support.postgres import PostgresServer

    now = datetime.now(UTC).replace(microsecond=0)
    server = PostgresServer.start(fsync=True)
    results = []
    try:
        for layout in ("unpartitioned", "partitioned"):
            store = Store(server.create_database(f"scale_{layout}"))
            store.migrate()
            print(f"{layout}: filling {events:,} events", flush=True)
            _setup(store, now, events, partitioned=layout == "partitioned")
            batch = _ingest(store, now, 500, batches)
            single = _ingest(store, now, 1, singles)
            read = _reads(store, now, reads)
            store.close()
            results.append((layout, {
                "batch_events_per_s": batch["events_per_s"], "batch_p99_ms": batch["p99_ms"],
                "single_per_s": single["events_per_s"], "single_p99_ms": single["p99_ms"],
                **read}))
    finally:
        server.stop()
    return results


def _table(events: int, results: list[tuple[str, dict[str, float]]]) -> str:
    columns = list(results[0][1])
    lines = [f"PostgreSQL, {events:,} events in the ledger (one client, fsync on)", "",
             "| layout | " + " | ".join(columns) + " |",
             "|---|" + "---:|" * len(columns)]
    lines += [f"| {layout} | " + " | ".join(f"{figures[c]:,.1f}" for c in columns) + " |"
              for layout, figures in results]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="ledger rows to fill")
    parser.add_argument("--batches", type=int, default=100, help="ingest batches of 500")
    parser.add_argument("--singles", type=int, default=2_000, help="single-event ingests")
    parser.add_argument("--reads", type=int, default=2_000, help="reads of each kind")
    args = parser.parse_args()
    results = run(args.events, args.batches, args.singles, args.reads)
    print(_table(args.events, results))


if __name__ == "__main__":
    main()
