"""WebhookJobsRepository, InvoiceItemsRepository, StripeInvoicesRepository: a Stripe event
recorded once and claimed with a lease, an item intent written once per period and
settled only while pending, invoices upserted and paged newest first."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.service.invoicing.ports import (
    ITEM_CREATED,
    ITEM_FAILED,
    ITEM_PENDING,
    JOB_DONE,
    JOB_PENDING,
    InvoiceItemRecord,
    StripeInvoiceRecord,
    WebhookJob,
)
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def job(event_id: str, received_us: int = 10, **changes: Any) -> WebhookJob:
    row = WebhookJob(
        TENANT, event_id, "invoice.created", "in_1", "{}", JOB_PENDING, 0, None, received_us,
        received_us, None, received_us,
    )  # fmt: skip
    return replace(row, **changes)


def item(metric: str = "calls", customer: str = "cus", start: int = 0, **changes: Any) -> Any:
    row = InvoiceItemRecord(
        metric, customer, start, start + 100, "in_1", "cus_S", "evt_1", f"ik-{metric}-{start}",
        "{}", Decimal("12.5"), None, "usd", None, ITEM_PENDING, None, None, 5, 5,
    )  # fmt: skip
    return replace(row, **changes)


def invoice(invoice_id: str, created_us: int, **changes: Any) -> StripeInvoiceRecord:
    row = StripeInvoiceRecord(
        invoice_id, "cus", "cus_S", 0, 100, "usd", None, "draft", None, None, None, None,
        created_us, created_us,
    )  # fmt: skip
    return replace(row, **changes)


def test_a_stripe_event_is_recorded_once(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.webhook_jobs.add(job("evt_1"))
        again = uow.webhook_jobs.add(job("evt_1", payload='{"x":1}'))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = uow.webhook_jobs.get("evt_1")
    assert (first, again, kept) == (True, False, job("evt_1"))


def test_claim_leases_a_due_pending_job_once(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.webhook_jobs.add(job("evt_1"))
        uow.webhook_jobs.add(job("evt_2", next_attempt_us=500))
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        claimed = uow.webhook_jobs.claim("evt_1", 100, 50)
        held = uow.webhook_jobs.claim("evt_1", 120, 50)
        early = uow.webhook_jobs.claim("evt_2", 120, 50)
        unknown = uow.webhook_jobs.claim("evt_9", 120, 50)
        uow.commit()
    assert claimed == job("evt_1", attempts=1, next_attempt_us=150, updated_us=100)
    assert (held, early, unknown) == (None, None, None)


def test_claim_due_takes_due_jobs_in_due_order(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.webhook_jobs.add(job("evt_1", next_attempt_us=30))
        uow.webhook_jobs.add(job("evt_2", next_attempt_us=20))
        uow.webhook_jobs.add(job("evt_3", status=JOB_DONE))
        uow.webhook_jobs.add(job("evt_4", next_attempt_us=900))
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        claimed = uow.webhook_jobs.claim_due(100, 50, 10)
        again = uow.webhook_jobs.claim_due(120, 50, 10)
        uow.commit()
    assert [(j.event_id, j.attempts, j.next_attempt_us) for j in claimed] == [
        ("evt_2", 1, 150),
        ("evt_1", 1, 150),
    ]
    assert again == []


def test_a_job_is_finished_or_retried_later(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.webhook_jobs.add(job("evt_1"))
        uow.webhook_jobs.add(job("evt_2"))
        uow.webhook_jobs.finish("evt_1", JOB_DONE, None, 60)
        uow.webhook_jobs.retry_at("evt_2", 900, "stripe down", 61)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        done, later = uow.webhook_jobs.get("evt_1"), uow.webhook_jobs.get("evt_2")
    assert done == job("evt_1", status=JOB_DONE, processed_us=60, updated_us=60)
    assert later == job("evt_2", next_attempt_us=900, error="stripe down", updated_us=61)


def test_jobs_page_newest_first(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for event_id, at in (("a", 1), ("b", 2), ("c", 2), ("d", 3)):
            uow.webhook_jobs.add(job(event_id, at, status=JOB_DONE if at == 3 else JOB_PENDING))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        every = uow.webhook_jobs.page(status=None, before=None, limit=10)
        after = uow.webhook_jobs.page(status=None, before=(2, "c"), limit=10)
        pending = uow.webhook_jobs.page(status=JOB_PENDING, before=None, limit=2)
    assert [j.event_id for j in every] == ["d", "c", "b", "a"]
    assert ([j.event_id for j in after], [j.event_id for j in pending]) == (["b", "a"], ["c", "b"])


def test_an_item_intent_is_written_once_per_period(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.invoice_items.add(item())
        again = uow.invoice_items.add(item(invoice_id="in_2"))
        other = uow.invoice_items.add(item(start=100))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = uow.invoice_items.get("calls", "cus", 0)
    assert (first, again, other, kept) == (True, False, True, item())


def test_an_item_is_settled_only_while_pending(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.invoice_items.add(item())
        uow.invoice_items.add(item(start=100))
        uow.invoice_items.settle(
            item(), status=ITEM_CREATED, now_us=20, stripe_item_id="ii_1", amount=1250
        )
        uow.invoice_items.settle(item(), status=ITEM_FAILED, now_us=21, error="replay")
        uow.invoice_items.settle(item(start=100), status=ITEM_FAILED, now_us=22, error="no")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        created, failed = (
            uow.invoice_items.get("calls", "cus", 0),
            uow.invoice_items.get("calls", "cus", 100),
        )
    assert created == item(status=ITEM_CREATED, stripe_item_id="ii_1", amount=1250, updated_us=20)
    assert failed == item(start=100, status=ITEM_FAILED, error="no", updated_us=22)


def test_items_are_listed_by_invoice_then_metric(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.invoice_items.add(item("tokens", invoice_id="in_2"))
        uow.invoice_items.add(item("calls", invoice_id="in_2"))
        uow.invoice_items.add(item("zeta", invoice_id="in_1"))
        uow.invoice_items.add(item("other", invoice_id="in_3"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        listed = [
            (i.invoice_id, i.metric) for i in uow.invoice_items.for_invoices(["in_2", "in_1"])
        ]
        empty = uow.invoice_items.for_invoices([])
    assert (listed, empty) == ([("in_1", "zeta"), ("in_2", "calls"), ("in_2", "tokens")], [])


def test_an_invoice_put_again_keeps_its_identity_and_creation(any_store: AnyStore) -> None:
    later = invoice("in_1", 99, customer_ref="changed", status="open", number="N-1", total=500)
    with any_store.unit_of_work(TENANT) as uow:
        uow.stripe_invoices.put(invoice("in_1", 5))
        uow.stripe_invoices.put(later)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = uow.stripe_invoices.get("in_1")
    assert kept == invoice("in_1", 5, status="open", number="N-1", total=500, updated_us=99)


def test_invoices_page_newest_first_with_filters(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.stripe_invoices.put(invoice("a", 1))
        uow.stripe_invoices.put(invoice("b", 2, customer_ref="x"))
        uow.stripe_invoices.put(invoice("c", 2, status="paid"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        page = uow.stripe_invoices.page
        every = page(status=None, customer_ref=None, before=None, limit=10)
        after = page(status=None, customer_ref=None, before=(2, "c"), limit=1)
        paid = page(status="paid", customer_ref=None, before=None, limit=10)
        of_x = page(status=None, customer_ref="x", before=None, limit=10)
    assert [[i.invoice_id for i in p] for p in (every, after, paid, of_x)] == [
        ["c", "b", "a"],
        ["b"],
        ["c"],
        ["b"],
    ]


JOB_OPS = st.lists(
    st.tuples(st.sampled_from(["claim", "claim_due", "finish", "retry"]), st.integers(0, 3)),
    max_size=25,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=JOB_OPS)
def test_no_job_is_handed_out_twice_while_its_lease_holds(
    any_store: AnyStore, ops: list[tuple[str, int]]
) -> None:
    """Claims (one or due), finishes and retries at a moving clock, checked against a
    model: a claimed job is pending, due, and counted once more each time."""
    ids = [f"evt_{n}" for n in range(3)]
    tenant = f"h{uuid.uuid4().hex[:10]}"
    with any_store.unit_of_work(tenant) as uow:
        for event_id in ids:
            uow.webhook_jobs.add(replace(job(event_id), tenant_id=tenant))
        uow.commit()
    now, lease = 100, 30
    due = dict.fromkeys(ids, 10)
    attempts = dict.fromkeys(ids, 0)
    done: set[str] = set()
    for op, n in ops:
        now += 7
        target = ids[n % len(ids)]
        with any_store.unit_of_work(tenant) as uow:
            if op == "claim":
                one = uow.webhook_jobs.claim(target, now, lease)
                claimed = [] if one is None else [one]
                expected = [] if target in done or due[target] > now else [target]
            else:
                expected = sorted(i for i in ids if i not in done and due[i] <= now)
                if op == "claim_due":
                    claimed = uow.webhook_jobs.claim_due(now, lease, 10)
                else:
                    claimed, expected = [], []
                    if op == "finish":
                        uow.webhook_jobs.finish(target, JOB_DONE, None, now)
                        done.add(target)
                    else:
                        uow.webhook_jobs.retry_at(target, now, "again", now)
                        due[target] = now
            uow.commit()
        assert sorted(j.event_id for j in claimed) == expected
        for claimed_job in claimed:
            attempts[claimed_job.event_id] += 1
            due[claimed_job.event_id] = now + lease
            assert claimed_job.attempts == attempts[claimed_job.event_id]
