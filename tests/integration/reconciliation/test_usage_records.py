"""Legacy usage records: the subscription item's usage-record summary is compared with the
ledger; a total set behind our back is drift, and repair sets the ledger's total again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.reconciliation.support import reconcile
from tests.integration.stripe_push.support import T0, Env
from tests.integration.stripe_push.test_push_modes import _subscribe


def _item(env: Env, customer: str) -> str:
    def find(c: Any) -> Any:
        return c.v1.subscriptions.list(params={"customer": customer}).data[0]["items"].data[0].id

    return str(env.gateway.call(find))


def test_a_total_set_behind_our_back_is_drift_and_repair_sets_it_back(env: Env) -> None:
    ref = env.customer()
    price = _subscribe(env, ref)
    env.metric("api_calls", "sum", meter=False, mode="usage_records", price=price)
    env.ingest(
        {"metric": "api_calls", "customerRef": ref, "quantity": "40", "ts": "2026-01-03T00:00:00Z"}
    )
    env.drain()
    assert [x.status for x in reconcile(env.ctx).lines] == ["ok"]
    env.gateway.set_usage_record(_item(env, ref), 55, T0, "behind-our-back")
    found = reconcile(env.ctx, repair=True).by(ref, "api_calls")
    assert (found.status, found.stripe_value, found.action, found.status_after) == (
        "drift",
        Decimal(55),
        "repaired",
        "ok",
    )
    assert [x.status for x in reconcile(env.ctx).lines] == ["ok"]
