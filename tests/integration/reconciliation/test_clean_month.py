"""A clean month of realistic traffic reconciles to zero drift: several metrics (sum, count,
latest, a decimal metric pushed in thousandths), a customer on its own billing anchor, late
and out-of-order events, a void and an adjustment, pushed day by day."""

from __future__ import annotations

from stripemeter_server.api.schemas.catalog import customer_terms
from stripemeter_server.service.catalog.metrics import put_customer
from tests.integration.reconciliation.support import reconcile
from tests.integration.stripe_push.support import Env

DAY = 86400


def test_a_realistic_month_reconciles_to_zero_drift(env: Env) -> None:
    env.metric("api_calls", "sum")
    env.metric("requests", "count")
    env.metric("seats", "latest")
    env.metric("storage_gb", "sum", precision=3)
    a, b = env.customer("A"), env.customer("B")
    with env.store.unit_of_work("default") as uow:
        put_customer(uow, customer_terms(b, {"anchorDay": 15}), env.clock.now())
        uow.commit()
    for day in range(5):
        stamp = f"2026-01-{14 + day:02d}T0{day}:00:00Z"
        late = f"2026-01-{10 + day:02d}T12:00:00Z"
        env.ingest(
            {"metric": "api_calls", "customerRef": a, "quantity": str(10 * day + 1), "ts": stamp},
            {"metric": "api_calls", "customerRef": b, "quantity": "3", "ts": late},
            {"metric": "requests", "customerRef": a, "ts": stamp, "idempotencyKey": f"req-a-{day}"},
            {"metric": "requests", "customerRef": b, "ts": late},
            {"metric": "seats", "customerRef": a, "quantity": str(day + 2), "ts": stamp},
            {"metric": "storage_gb", "customerRef": b, "quantity": "0.1234", "ts": stamp},
        )
        if day == 2:
            env.void("req-a-1")
            env.adjust("api_calls", a, "-4", at=env.clock.now())
        env.drain()
        env.advance(DAY)
    result = reconcile(env.ctx)
    assert result.attention() == []
    assert {x.status for x in result.lines} == {"ok"}
    assert {(x.customer_ref, x.metric) for x in result.lines} >= {
        (a, "api_calls"),
        (b, "api_calls"),
        (a, "requests"),
        (b, "requests"),
        (a, "seats"),
        (b, "storage_gb"),
    }
