"""`make bench-scale`: the ledger partitioned by month against one plain table, on PostgreSQL.

Two databases on one throwaway PostgreSQL server (fsync on): ``partitioned`` is the schema
the migrations make (``events`` in monthly partitions of ``received_us``, ADR 0810);
``unpartitioned`` is the same schema with ``events`` rebuilt as one plain table (same columns,
key (tenant_id, seq), same indexes; the keys in ``event_keys`` either way, so the only
difference is the partitioning). Each is filled with ``--events`` ledger rows received over
the past twelve months (one tenant, 10 000 customers, one sum metric; straight SQL), then
measured through the service code in this process, one client, in four rounds that
alternate between the two layouts (so a change of the machine's load falls on both):

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
from stripemeter_server.domain.metrics import metric_from_dict
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
    "ALTER INDEX ix_events_tenant_metric_customer_ts RENAME TO ix_events_tmct_old",
    "ALTER INDEX ix_events_tenant_backfill RENAME TO ix_events_tenant_backfill_old",
    "CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS)",
    "DROP TABLE events_partitioned",
    "ALTER SEQUENCE events_seq_seq OWNED BY events.seq",
    "ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (tenant_id, seq)",
    (
        "CREATE INDEX ix_events_tenant_metric_customer_ts "
        "ON events (tenant_id, metric, customer_ref, ts_us)"
    ),
    "CREATE INDEX ix_events_tenant_backfill ON events (tenant_id, backfill_id)",
]

# The events and their keys, each key's row naming its event's (ADR 0981).
FILL = """
WITH e AS (
INSERT INTO events (tenant_id, idempotency_key, metric, customer_ref, quantity, ts_us,
                    received_us, fingerprint, late, late_after_close)
SELECT :tenant, 'fill-' || g, :metric, 'cus_' || (g % :customers), 1.25,
       CAST(:start AS bigint) + g * :step, CAST(:start AS bigint) + g * :step,
       md5(g::text)::varchar(32), false, false
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
RETURNING tenant_id, idempotency_key, fingerprint, seq, received_us)
INSERT INTO event_keys (tenant_id, idempotency_key, fingerprint, seq, received_us)
SELECT * FROM e
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
        create_metric(uow, metric_from_dict({"code": METRIC, "aggregation": "sum"}), now)
        uow.commit()
    chunk = 250_000
    for first in range(0, events, chunk):
        last = min(events, first + chunk) - 1
        params = {
            "tenant": TENANT,
            "metric": METRIC,
            "customers": CUSTOMERS,
            "start": to_micros(start),
            "step": (to_micros(now) - to_micros(start)) // events,
            "first": first,
            "last": last,
        }
        with store.engine.begin() as conn:
            conn.execute(text(FILL), params)
        print(f"  filled {last + 1:,} events", flush=True)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _event(n: int, at: datetime) -> dict[str, Any]:
    return {
        "metric": METRIC,
        "customerRef": f"cus_{n % CUSTOMERS}",
        "quantity": "2.5",
        "ts": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "idempotencyKey": f"new-{uuid.uuid4()}",
    }


Samples = dict[str, list[float]]


def _measure(
    store: Store, now: datetime, sizes: tuple[int, int, int], into: Samples, rng: random.Random
) -> None:
    """One round on one layout: batches of 500, single events, then both reads."""
    batches, singles, reads = sizes

    def ingest(batch: int) -> Callable[[int], None]:
        def one(n: int) -> None:
            with store.unit_of_work(TENANT) as uow:
                ingest_batch(
                    uow,
                    [_event(n * batch + i, now) for i in range(batch)],
                    now=now,
                    limits=EventLimits(),
                )
                uow.commit()

        return one

    def usage(_n: int) -> None:
        with store.unit_of_work(TENANT, read_only=True) as uow:
            current_usage(uow, f"cus_{rng.randrange(CUSTOMERS)}", now, METRIC)

    def page(_n: int) -> None:
        with store.unit_of_work(TENANT, read_only=True) as uow:
            uow.events.page(
                EventFilter(metric=METRIC, customer_ref=f"cus_{rng.randrange(CUSTOMERS)}"), 100
            )

    into.setdefault("batch", []).extend(_timed(batches, ingest(500)))
    into.setdefault("single", []).extend(_timed(singles, ingest(1)))
    into.setdefault("usage", []).extend(_timed(reads, usage))
    into.setdefault("page", []).extend(_timed(reads, page))


def _figures(samples: Samples) -> dict[str, float]:
    figures = {
        "batch_events_per_s": 500 * len(samples["batch"]) / (sum(samples["batch"]) / 1000),
        "single_per_s": len(samples["single"]) / (sum(samples["single"]) / 1000),
    }
    for kind in ("batch", "single", "usage", "page"):
        figures[f"{kind}_p50_ms"], figures[f"{kind}_p99_ms"] = _percentiles(samples[kind])
    return figures


def run(
    events: int, batches: int, singles: int, reads: int, rounds: int = 4
) -> list[tuple[str, dict[str, float]]]:
    """Fill both layouts, then measure them in alternating rounds, so a change in the
    machine's load during the run falls on both alike."""
    from tests.support.postgres import PostgresServer

    now = datetime.now(UTC).replace(microsecond=0)
    server = PostgresServer.start(fsync=True)
    layouts = ("unpartitioned", "partitioned")
    stores: dict[str, Store] = {}
    samples: dict[str, Samples] = {layout: {} for layout in layouts}
    rng = random.Random(7)
    sizes = (max(1, batches // rounds), max(1, singles // rounds), max(1, reads // rounds))
    try:
        for layout in layouts:
            stores[layout] = Store(server.create_database(f"scale_{layout}"))
            stores[layout].migrate()
            print(f"{layout}: filling {events:,} events", flush=True)
            _setup(stores[layout], now, events, partitioned=layout == "partitioned")
        for n in range(rounds):
            for layout in layouts if n % 2 == 0 else layouts[::-1]:
                _measure(stores[layout], now, sizes, samples[layout], rng)
            print(f"  round {n + 1} of {rounds} measured", flush=True)
    finally:
        for store in stores.values():
            store.close()
        server.stop()
    return [(layout, _figures(samples[layout])) for layout in layouts]


def _table(events: int, results: list[tuple[str, dict[str, float]]]) -> str:
    columns = list(results[0][1])
    lines = [
        f"PostgreSQL, {events:,} events in the ledger (one client, fsync on)",
        "",
        "| layout | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    lines += [
        f"| {layout} | " + " | ".join(f"{figures[c]:,.1f}" for c in columns) + " |"
        for layout, figures in results
    ]
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
