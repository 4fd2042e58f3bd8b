"""The README's full loop, as a new user runs it against real processes with no Stripe
account: `serve` starts the local emulator; a metric is pushed to a Billing Meter and Stripe's
summary equals the ledger; a renewal's draft invoice gets the other metric's usage line.

Only the project's HTTP API, the emulator's Stripe API (through the official library) and its
documented control surface are used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import stripe

from tests.e2e.test_local_stripe import KEY, _serve
from tests.e2e.test_server_process import free_port

T = TypeVar("T")
DAY = 86400


def eventually(probe: Callable[[], T | None], what: str, seconds: float = 60) -> T:
    """Poll until the background loops have done their work (a deadline, not a timing test)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Loop:
    def __init__(self, base: str, emulator: str) -> None:
        self.api = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
        )
        self.emulator = emulator
        self.stripe = stripe.StripeClient(
            "sk_test_local_emulator",
            max_network_retries=0,
            base_addresses={"api": emulator, "meter_events": emulator},
        )

    def send(self, method: str, path: str, body: Any = None) -> Any:
        response = self.api.request(method, path, json=body)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json() if response.content else None


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    port, emulator_port = free_port(), free_port()
    proc, _log = _serve(tmp_path, port, emulator_port)
    try:
        yield Loop(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{emulator_port}")
    finally:
        proc.kill()
        proc.wait(10)


def test_usage_reaches_stripe_and_the_renewal_invoice(loop: Loop) -> None:
    today = datetime.now(UTC)
    # Stripe side: a customer tied to our ref "acme", on a monthly plan from today.
    customer = loop.stripe.v1.customers.create(
        params={"name": "Acme", "metadata": {"stripemeter_customer_ref": "acme"}}
    )
    plan = loop.stripe.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1000,
            "product_data": {"name": "Plan"},
            "recurring": {"interval": "month"},
        }
    )
    loop.stripe.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": plan.id}]}
    )
    # Our side: acme's billing periods start on the subscription's day; two metrics.
    loop.send("PUT", "/v1/customers/acme", {"anchorDay": today.day, "timezone": "UTC"})
    loop.send("POST", "/v1/metrics", {"code": "api_calls", "aggregation": "sum"})
    loop.send("POST", "/v1/metrics", {"code": "storage_gb", "aggregation": "max"})
    loop.send("POST", "/v1/mappings", {"metric": "api_calls"})
    loop.send(
        "POST",
        "/v1/mappings",
        {"metric": "storage_gb", "mode": "invoice_items", "unitAmount": "25", "currency": "usd"},
    )
    meters = loop.send("POST", "/v1/stripe/meters/sync")["data"]
    assert [(m["metric"], m["status"]) for m in meters] == [("api_calls", "created")]

    stamp = today.strftime("%Y-%m-%dT%H:%M:%SZ")
    loop.send(
        "POST",
        "/v1/events/ingest",
        {
            "events": [
                {"metric": "api_calls", "customerRef": "acme", "quantity": "100", "ts": stamp},
                {
                    "metric": "api_calls",
                    "customerRef": "acme",
                    "quantity": "20",
                    "ts": stamp,
                    "idempotencyKey": "second",
                },
                {"metric": "storage_gb", "customerRef": "acme", "quantity": "5", "ts": stamp},
            ]
        },
    )

    # 1. The pusher sends the delta; Stripe's summary over the period equals the ledger.
    pushed = eventually(
        lambda: loop.send("GET", "/v1/pushes?status=sent")["data"] or None, "the push"
    )
    assert sum(int(p["value"]) for p in pushed) == 120
    meter_id = loop.stripe.v1.billing.meters.list().data[0].id
    start = int(today.timestamp()) // 60 * 60 - DAY
    summaries = loop.stripe.v1.billing.meters.event_summaries.list(
        meter_id, params={"customer": customer.id, "start_time": start, "end_time": start + 3 * DAY}
    )
    assert sum(s.aggregated_value for s in summaries.data) == 120

    # 2. A month later the renewal's draft invoice gets storage_gb's line: 5 GB x 25 cents.
    httpx.post(f"{loop.emulator}/_emulator/clock/advance", json={"seconds": 32 * DAY})

    def billed() -> dict[str, Any] | None:
        invoices = loop.send("GET", "/v1/stripe/invoices")["data"]
        return invoices[0] if invoices and invoices[0].get("items") else None

    invoice = eventually(billed, "the invoice item")
    lines = loop.stripe.v1.invoices.line_items.list(invoice["invoiceId"]).data
    usage = [line for line in lines if line.amount == 125]
    assert len(usage) == 1 and "storage_gb" in (usage[0].description or "")
    tomorrow = (today + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    periods = loop.send(
        "GET", f"/v1/usage/periods?customerRef=acme&metric=storage_gb&from={stamp}&to={tomorrow}"
    )["data"]
    assert [(p["value"], p["status"]) for p in periods] == [("5", "closed")]
