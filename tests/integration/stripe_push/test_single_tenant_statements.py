"""The background workers never run a statement that spans tenants (PostgreSQL).

Every worker loop runs once against PostgreSQL with work queued in two tenants, and every
statement it sends is recorded with its parameters. A statement on a tenant table must be
bound to exactly one tenant (``tenant_id = <one value>``): that is what lets the schema be
distributed by tenant (docs/operations.md, "Distributing by tenant"). The only cross-tenant
read is the list of tenants itself (``tenants``, a reference table there).
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
_TENANT_PARAM = re.compile(r'tenant_id\s*=\s*%\((\w+)\)s')


@pytest.fixture
def pg_env(request: pytest.FixtureRequest, tmp_path: Path,
           emu: EmulatorServer) -> Iterator[Env]:
    store = open_store("postgres", request, tmp_path)
    built = build_env(store, emu)
    yield built
    built.pool.close()
    store.close()


def _statements(store: Store) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: Any,
               _context: object, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    return seen


def _tenants_bound(statement: str, parameters: Any) -> set[object]:
    """The tenant values the statement is bound to (every parameter set of an executemany)."""
    sets = parameters if isinstance(parameters, list | tuple) else [parameters]
    names = set(_TENANT_PARAM.findall(statement))
    if re.match(r"\s*INSERT\b", statement, re.IGNORECASE):
        names.add("tenant_id")
    return {params[name] for params in sets for name in names if name in params}


def _queue_work(env: Env) -> None:
    now = env.clock.now()
    now_us = to_micros(now)
    env.metric("api_calls")
    env.ingest({"metric": "api_calls", "customerRef": env.customer("Acme"), "quantity": "3",
                "ts": "2026-01-14T00:00:00Z"})
    with env.store.unit_of_work("default") as uow:
        start_run(uow, RunScope(metric="api_calls"), False, now)
        uow.commit()
    with env.store.unit_of_work("other") as uow:
        create_tenant(uow, "other", name=None, auto_create_metrics=True, now=now)
        uow.alerts.enqueue(delivery_id="dlv_1", event_seq=1, rule_id="rule_gone",
                           url="http://127.0.0.1:9/hook", now_us=now_us)
        uow.webhook_jobs.add(WebhookJob("other", "evt_1", "customer.created", None, "{}",
                                        JOB_PENDING, 0, None, now_us, now_us, None, now_us))
        uow.commit()


def test_every_worker_statement_on_a_tenant_table_is_bound_to_one_tenant(
        pg_env: Env) -> None:
    _queue_work(pg_env)
    seen = _statements(pg_env.store)
    now = pg_env.clock.now()
    assert pg_env.worker().run_once(now, full=True).sent == 1
    with AlertDeliveryWorker(pg_env.store, pg_env.clock) as alerts:
        assert alerts.run_once(now) == 1
    assert InvoiceJobWorker(pg_env.ctx).run_once(now) == 1
    assert ReconciliationWorker(pg_env.ctx, schedule=True).run_once(now) == 1
    touching = [(s, p) for s, p in seen if TENANT_TABLES & set(_TABLE.findall(s))]
    unbound = [s for s, p in touching if len(_tenants_bound(s, p)) != 1]
    assert touching and unbound == []
