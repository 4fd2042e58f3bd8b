"""ReconciliationRepository and its facts: the gate setting, runs created once and claimed
with a lease, lines paged and summed per metric and status, the customers a run walks,
the gate's verdicts, and the counters, unsent pushes, items and invoices a page reads."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.reconciliation.ports import (
    DONE,
    QUEUED,
    RUNNING,
    GateSetting,
    GateVerdict,
    LineRecord,
    MetricTotals,
    RunRecord,
    UnsentPush,
)
from stripemeter_server.service.stripe_sync.ports.pushes import FAILED, SENT
from tests.contract.storage.repositories.conftest import TENANT, AnyStore
from tests.contract.storage.repositories.test_invoicing import invoice, item
from tests.contract.storage.repositories.test_pushes import push


def line(n: int, metric: str = "calls", status: str = "drift", **changes: Any) -> LineRecord:
    row = LineRecord(
        n, f"cus{n}", metric, "meter_events", 0, 100, Decimal(10), Decimal(10), Decimal(7),
        Decimal(-3), Decimal("0.3"), status, Decimal("1.50"), "usd", None, None,
    )  # fmt: skip
    return replace(row, **changes)


def verdict(invoice_id: str, state: str, updated_us: int, created_us: int = 1) -> GateVerdict:
    return GateVerdict(
        invoice_id, "cus", state, "hold", "run1", 1, Decimal(2), "usd", created_us, updated_us
    )


def create(store: AnyStore, run_id: str, created_us: int) -> bool:
    with store.unit_of_work(TENANT) as uow:
        made = uow.reconciliation.create_run(
            run_id, trigger="api", filters="{}", repair=False, now_us=created_us
        )
        uow.commit()
    return bool(made)


def test_the_gate_setting_is_upserted(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        before = uow.reconciliation.gate()
        uow.reconciliation.put_gate(GateSetting("hold", 3600), 1)
        uow.reconciliation.put_gate(GateSetting("report", 60), 2)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        assert (before, uow.reconciliation.gate()) == (None, GateSetting("report", 60))


def test_a_run_is_created_once_and_listed_newest_first(any_store: AnyStore) -> None:
    made = [create(any_store, r, at) for r, at in (("a", 1), ("b", 2), ("c", 2), ("a", 9))]
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        run = uow.reconciliation.get_run("a")
        every = [r.run_id for r in uow.reconciliation.list_runs(before=None, limit=10)]
        after = [r.run_id for r in uow.reconciliation.list_runs(before=(2, "c"), limit=10)]
        queued = uow.reconciliation.queued_runs(2)
    assert made == [True, True, True, False]
    assert run == RunRecord(
        "a", TENANT, "api", "{}", False, QUEUED, 0, None, None, None, 1, None, None
    )
    assert (every, after, queued) == (["c", "b", "a"], ["b", "a"], [(TENANT, "a"), (TENANT, "b")])


def test_a_run_is_claimed_once_per_lease_and_finished(any_store: AnyStore) -> None:
    create(any_store, "r1", 1)
    with any_store.unit_of_work(TENANT) as uow:
        claimed = uow.reconciliation.claim_run("r1", 10, 100)
        held = uow.reconciliation.claim_run("r1", 50, 100)
        uow.reconciliation.progress("r1", 3, 9, 200)
        still_held = uow.reconciliation.claim_run("r1", 150, 100)
        taken_over = uow.reconciliation.claim_run("r1", 200, 100)
        uow.reconciliation.finish("r1", status=DONE, summary="{}", error=None, now_us=250)
        finished = uow.reconciliation.claim_run("r1", 900, 100)
        unknown = uow.reconciliation.claim_run("nope", 900, 100)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        done = uow.reconciliation.get_run("r1")
    assert claimed is not None and taken_over is not None
    assert (claimed.status, claimed.started_us, taken_over.started_us) == (RUNNING, 10, 10)
    assert (held, still_held, finished, unknown) == (None, None, None, None)
    assert done == RunRecord("r1", TENANT, "api", "{}", False, DONE, 3, 9, "{}", None, 1, 10, 250)


def test_lines_are_paged_filtered_acted_on_and_deleted(any_store: AnyStore) -> None:
    create(any_store, "r1", 1)
    with any_store.unit_of_work(TENANT) as uow:
        uow.reconciliation.add_lines(
            "r1", [line(n, status="ok" if n == 2 else "drift") for n in (1, 2, 3)]
        )
        uow.reconciliation.add_lines("r1", [])
        uow.reconciliation.set_action("r1", 3, "repaired", "sent", "ok")
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        count = uow.reconciliation.line_count("r1")
        page = [ln.line_no for ln in uow.reconciliation.lines("r1", after=1, limit=1)]
        drift = [ln.line_no for ln in uow.reconciliation.lines("r1", status="drift")]
        acted = uow.reconciliation.lines("r1", after=2)[0]
        unresolved = uow.reconciliation.unresolved_count("r1")
        uow.reconciliation.delete_lines("r1")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        left = uow.reconciliation.line_count("r1")
    assert (count, page, drift, unresolved, left) == (3, [2], [1, 3], 1, 0)
    assert acted == line(3, action="repaired", note="sent", status_after="ok")


def test_totals_sum_per_metric_and_status(any_store: AnyStore) -> None:
    create(any_store, "r1", 1)
    lines = [
        line(1),
        line(2),
        line(3, status="ok", absolute_drift=Decimal(0), money_at_stake=None),
        line(4, "tokens", stripe_value=None, local_value=None),
    ]
    with any_store.unit_of_work(TENANT) as uow:
        uow.reconciliation.add_lines("r1", lines)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        totals = uow.reconciliation.totals("r1")
    d = Decimal
    assert totals == [
        MetricTotals("calls", "drift", 2, d(20), d(14), d(6), d("3.00")),
        MetricTotals("calls", "ok", 1, d(10), d(7), d(0), None),
        MetricTotals("tokens", "drift", 1, None, None, d(3), d("1.50")),
    ]


def test_a_run_walks_customers_with_open_counters_and_registered_ones(
    any_store: AnyStore,
) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for customer, end in (("b", 100), ("d", 100), ("old", 10)):
            locked = uow.counters.lock({("calls", customer, 0): end}, 1)
            uow.counters.save(locked.values(), 1)
        for ref in ("a", "b", "c"):
            uow.customers.upsert(CustomerRecord(ref, None, None, None, 1, 1))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        count = uow.reconciliation.customer_count(50)
        first = uow.reconciliation.customer_page(after=None, limit=3, min_end_us=50)
        rest = uow.reconciliation.customer_page(after="c", limit=3, min_end_us=50)
    assert (count, first, rest) == (4, ["a", "b", "c"], ["d"])


def test_verdicts_are_upserted_listed_and_held_ones_counted(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.reconciliation.put_verdict(verdict("in_1", "held", 5))
        uow.reconciliation.put_verdict(verdict("in_2", "agreed", 6))
        uow.reconciliation.put_verdict(verdict("in_3", "held", 7))
        uow.reconciliation.put_verdict(verdict("in_2", "held", 8, created_us=99))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = uow.reconciliation.verdict("in_2")
        held = [v.invoice_id for v in uow.reconciliation.verdicts(state="held", limit=2)]
        count = uow.reconciliation.held_count()
    assert (kept, held, count) == (verdict("in_2", "held", 8), ["in_2", "in_3"], 3)


def test_latest_finished_is_each_tenants_newest_finished_run(any_store: AnyStore) -> None:
    for run_id, at in (("r1", 1), ("r2", 2), ("r3", 3)):
        create(any_store, run_id, at)
    with any_store.unit_of_work(TENANT) as uow:
        uow.reconciliation.finish("r1", status=DONE, summary=None, error=None, now_us=40)
        uow.reconciliation.finish("r2", status=DONE, summary=None, error=None, now_us=50)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        assert [r.run_id for r in uow.reconciliation.latest_finished()] == ["r2"]


def test_facts_read_counters_unsent_pushes_items_and_invoice_statuses(
    any_store: AnyStore,
) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock({("calls", "a", 0): 100, ("calls", "b", 0): 10}, 1)
        for counter in locked.values():
            counter.state = CounterState(count=2)
        uow.counters.save(locked.values(), 1)
        uow.pushes.add_many(
            [
                push("p1", customer="a", seq=1, pushed_after=4, status=SENT),
                push(
                    "p2",
                    customer="a",
                    seq=2,
                    value=3,
                    pushed_after=5,
                    status=FAILED,
                    last_error_code="gone",
                ),
            ]
        )
        for metric, customer, end in (
            ("calls", "a", 100),
            ("credit:g1", "a", 50),
            ("credit:g2", "b", 200),
        ):
            uow.invoice_items.add(item(metric, customer, period_end_us=end))
        uow.stripe_invoices.put(invoice("in_1", 1))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        facts = uow.reconciliation.facts
        counters = facts.counters("calls", ["a", "b", "c"], 50)
        unsent = facts.unsent_pushes("calls", ["a", "b"])
        items = facts.invoice_items("calls", ["a"])
        credits = [(i.metric, i.customer_ref) for i in facts.credit_items(["a", "b"], 60)]
        statuses = facts.invoice_statuses(["in_1", "in_9"])
    assert {k: c.state.count for k, c in counters.items()} == {("a", 0): 2}
    assert unsent == {("a", 0): UnsentPush("p2", FAILED, "gone", 3, 5)}
    assert (list(items), credits, statuses) == ([("a", 0)], [("credit:g2", "b")], {"in_1": "draft"})
