"""The background workers never run a statement that spans tenants (PostgreSQL).

Every worker loop runs once against PostgreSQL with work queued in two tenants, and every
statement it sends is recorded with its parameters. A statement on a tenant table must be
bound to exactly one tenant (``tenant_id = <one value>``): that is what lets the schema be
distributed by tenant (docs/operations.md, "Distributing by tenant"). The only cross-tenant
read is the list of tenants itself (``tenants``, a reference table there).

Statements are seen where SQLAlchemy sends them (named ``%(name)s`` parameters, or a raw
driver string's positional ``%s``), and where the PostgreSQL ledger's hot paths go straight
to the driver's cursor (``storage/postgres/ledger.py``), so no path escapes the check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from stripe_emulator import EmulatorServer
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.invoicing.ports import JOB_PENDING, WebhookJob
from stripemeter_server.service.operations.tenancy import create_tenant
from stripemeter_server.service.reconciliation.plan import RunScope
from stripemeter_server.service.reconciliation.runs import start_run
from stripemeter_server.storage.postgres import ledger
from stripemeter_server.storage.schema import metadata
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker
from stripemeter_server.workers.invoice_jobs import InvoiceJobWorker
from stripemeter_server.workers.reconciliation import ReconciliationWorker
from tests.conftest import open_store
from tests.integration.stripe_push.support import Env, build_env

# Read on every node (reference tables on Citus), or not tenant data at all.
REFERENCE = {"tenants", "api_keys"}
TENANT_TABLES = {t.name for t in metadata.sorted_tables if "tenant_id" in t.c} - REFERENCE
_TABLE = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?(\w+)', re.IGNORECASE)
_TENANT_PARAM = re.compile(r"tenant_id\s*=\s*%\((\w+)\)s")
_PLACEHOLDER = re.compile(r"%s")
_TENANT_POSITION = re.compile(r"tenant_id\s*=\s*%s$")
_INSERT_COLUMNS = re.compile(
    r'\s*INSERT\s+INTO\s+"?\w+"?\s*\(([^)]*)\)\s*(?:VALUES\s*\(|SELECT\s)', re.IGNORECASE
)
Seen = list[tuple[str, list[Any]]]


@pytest.fixture
def pg_env(request: pytest.FixtureRequest, tmp_path: Path, emu: EmulatorServer) -> Iterator[Env]:
    store = open_store("postgres", request, tmp_path)
    built = build_env(store, emu)
    yield built
    built.pool.close()
    store.close()


class _RecordingCursor:
    """The ledger's raw driver cursor, writing down what it executes."""

    def __init__(self, cursor: Any, seen: Seen) -> None:
        self._cursor = cursor
        self._seen = seen

    def __enter__(self) -> _RecordingCursor:
        self._cursor.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.__exit__(*exc)

    def execute(self, statement: str, params: Any = None) -> Any:
        self._seen.append((statement, [params]))
        return self._cursor.execute(statement, params)

    def executemany(self, statement: str, sets: Any) -> Any:
        sets = list(sets)
        self._seen.append((statement, sets))
        return self._cursor.executemany(statement, sets)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def _statements(store: Store, monkeypatch: pytest.MonkeyPatch) -> Seen:
    """Every statement sent, with its parameter sets (one, or each of an executemany)."""
    seen: Seen = []

    def record(
        _conn: object,
        _cursor: object,
        statement: str,
        parameters: Any,
        _context: object,
        many: bool,
    ) -> None:
        seen.append((statement, list(parameters) if many else [parameters]))

    event.listen(store.engine, "before_cursor_execute", record)
    driver_cursor = ledger._Raw._cursor
    monkeypatch.setattr(
        ledger._Raw, "_cursor", lambda raw: _RecordingCursor(driver_cursor(raw), seen)
    )
    return seen


def _tenant_keys(statement: str) -> set[Any]:
    """Where the tenant sits in the statement's parameters: names for SQLAlchemy's
    ``%(name)s`` style, positions for a raw driver statement's ``%s`` style."""
    keys: set[Any] = set(_TENANT_PARAM.findall(statement))
    is_insert = re.match(r"\s*INSERT\b", statement, re.IGNORECASE) is not None
    if is_insert:
        keys.add("tenant_id")
    marks = list(_PLACEHOLDER.finditer(statement))
    keys |= {n for n, mark in enumerate(marks) if _TENANT_POSITION.search(statement[: mark.end()])}
    columns = _INSERT_COLUMNS.match(statement)
    if is_insert and columns:  # a positional row: the n-th column is the n-th mark after it
        names = [c.strip().strip('"') for c in columns.group(1).split(",")]
        after = [n for n, mark in enumerate(marks) if mark.start() >= columns.end()]
        keys |= {after[n] for n, name in enumerate(names) if name == "tenant_id" and n < len(after)}
    return keys


def _tenants_bound(statement: str, sets: list[Any]) -> set[object]:
    """The tenant values the statement is bound to, over all its parameter sets."""
    keys = _tenant_keys(statement)
    found: set[object] = set()
    for params in sets:
        if isinstance(params, dict):
            found |= {params[k] for k in keys if isinstance(k, str) and k in params}
        else:
            found |= {params[k] for k in keys if isinstance(k, int) and k < len(params)}
    return found


def _queue_work(env: Env) -> None:
    now = env.clock.now()
    now_us = to_micros(now)
    env.metric("api_calls")
    env.ingest(
        {
            "metric": "api_calls",
            "customerRef": env.customer("Acme"),
            "quantity": "3",
            "ts": "2026-01-14T00:00:00Z",
        }
    )
    with env.store.unit_of_work("default") as uow:
        start_run(uow, RunScope(metric="api_calls"), False, now)
        uow.commit()
    with env.store.unit_of_work("other") as uow:
        create_tenant(uow, "other", name=None, auto_create_metrics=True, now=now)
        uow.alerts.enqueue(
            delivery_id="dlv_1",
            event_seq=1,
            rule_id="rule_gone",
            url="http://127.0.0.1:9/hook",
            now_us=now_us,
        )
        uow.webhook_jobs.add(
            WebhookJob(
                "other",
                "evt_1",
                "customer.created",
                None,
                "{}",
                JOB_PENDING,
                0,
                None,
                now_us,
                now_us,
                None,
                now_us,
            )
        )
        uow.commit()


def test_every_worker_statement_on_a_tenant_table_is_bound_to_one_tenant(
    pg_env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue_work(pg_env)
    seen = _statements(pg_env.store, monkeypatch)
    now = pg_env.clock.now()
    assert pg_env.worker().run_once(now, full=True).sent == 1
    with AlertDeliveryWorker(pg_env.store, pg_env.clock) as alerts:
        assert alerts.run_once(now) == 1
    assert InvoiceJobWorker(pg_env.ctx).run_once(now) == 1
    assert ReconciliationWorker(pg_env.ctx, schedule=True).run_once(now) == 1
    touching = [(s, p) for s, p in seen if TENANT_TABLES & set(_TABLE.findall(s))]
    unbound = [s for s, p in touching if len(_tenants_bound(s, p)) != 1]
    assert touching and unbound == []
