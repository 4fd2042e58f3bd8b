"""Unimeter's guide, Step 3: its aiohttp webhook program, word for word, against a real
`stripemeter serve --unimeter-port` and the project's Stripe emulator. Stripe sends
``invoice.created``; the program asks stripemeter (over Unimeter's protocol) for last
month's count and adds it to the invoice: the item appears once, and a replayed webhook
adds nothing.

Only the Stripe side is set up around the program: its base URL (the emulator), and the API
version the guide was written for. Since 2025-03-31.basil Stripe refuses the program's
``unit_amount`` on invoice items (``unit_amount_decimal`` replaced it), so a user running it
has an account or SDK pinned before that; the emulator holds each version's rules.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from aiohttp import web
from unimeter import AggType, AsyncClient, Event, MetricSchema, PeriodType, last_billing_period

from stripe_emulator.server import EmulatorServer
from stripe_emulator.webhooks import sign
from tests.e2e.unimeter_support import SAMPLES, UnimeterServer, free_port

pytestmark = pytest.mark.slow
PRE_BASIL = "2025-02-24.acacia"
STRIPE_KEY = "sk_test_unimeter_guide"
ALICE_CALLS, BOB_CALLS = 37, 5
GUARD_SECONDS = 60  # hang guards for bounded polling, not speed assertions


class WebApp:
    """The program's own aiohttp ``app``, served on a loopback port from a thread (the
    program's ``__main__`` would bind port 4242)."""

    def __init__(self, app: web.Application, port: int) -> None:
        self.app, self.port = app, port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(app)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(GUARD_SECONDS)

    async def _start(self) -> None:
        await self.runner.setup()  # runs the program's on_startup: it connects its client
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __enter__(self) -> WebApp:
        self.thread.start()
        self._call(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(GUARD_SECONDS)
        self.loop.close()  # stopped: its selector and self-pipe go now, not at collection


@pytest.fixture
def meter(tmp_path: Path) -> Iterator[UnimeterServer]:
    running = UnimeterServer(tmp_path / "stripemeter.db", unimeter_port=free_port()).start()
    yield running
    running.kill()


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as emu:
        yield emu


@pytest.fixture
def stripe_globals() -> Iterator[None]:
    """The legacy global configuration the program uses, restored afterwards."""
    saved = (stripe.api_base, stripe.api_version, stripe.api_key)
    yield
    stripe.api_base, stripe.api_version, stripe.api_key = saved


def record_last_months_usage(meter: UnimeterServer) -> None:
    """The Step 1 metric, and last month's calls as the Step 2 middleware recorded them then
    (backdated here, so last month's period must still be open: a 62-day lateness window)."""

    async def record() -> None:
        async with AsyncClient([f"127.0.0.1:{meter.unimeter_port}"]) as client:
            await client.metrics.create(
                MetricSchema(
                    code="api_calls",
                    agg_type=AggType.COUNT,
                    period_type=PeriodType.CALENDAR,
                    billing_cycle_day=1,
                )
            )
            assert (
                meter.admin(
                    "PATCH", "/v1/metrics/api_calls", json={"latenessWindow": "P62D"}
                ).status_code
                == 200
            )
            start = last_billing_period(1).start
            await client.ingest(
                [
                    Event(
                        account_id=1,
                        metric_code="api_calls",
                        value=1,
                        timestamp=start + timedelta(hours=1, seconds=i),
                    )
                    for i in range(ALICE_CALLS)
                ]
                + [
                    Event(
                        account_id=2,
                        metric_code="api_calls",
                        value=1,
                        timestamp=start + timedelta(hours=2, seconds=i),
                    )
                    for i in range(BOB_CALLS)
                ]
            )

    asyncio.run(asyncio.wait_for(record(), GUARD_SECONDS))


def demo_customer(emu: EmulatorServer, customer_id: str) -> None:
    """The guide's customers, with its IDs (as if made in the Stripe dashboard)."""
    created = emu.stripe_client().v1.customers.create(params={"name": customer_id})
    record = {**emu.emulator.store.get("customers", created.id), "id": customer_id}
    emu.emulator.store.put("customers", customer_id, record)


def load_program(
    meter: UnimeterServer, secret: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The program as its Step 4 runs it: configured by environment variables."""
    for name, value in (
        ("STRIPE_SECRET_KEY", STRIPE_KEY),
        ("STRIPE_WEBHOOK_SECRET", secret),
        ("BILLING_NODES", f"127.0.0.1:{meter.unimeter_port}"),
    ):
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SAMPLES / "step3_webhook.py"), run_name="unimeter_step3")


def items_on(emu: EmulatorServer, invoice_id: str) -> list[Any]:
    found = emu.stripe_client().v1.invoice_items.list(params={"invoice": invoice_id})
    return list(found.data)


def wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def test_the_webhook_program_adds_last_months_usage_once(
    meter: UnimeterServer,
    emulator: EmulatorServer,
    stripe_globals: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_last_months_usage(meter)
    for customer_id in ("cus_demo_alice", "cus_demo_bob"):
        demo_customer(emulator, customer_id)
    port = free_port()
    endpoint = emulator.stripe_client().v1.webhook_endpoints.create(
        params={"url": f"http://127.0.0.1:{port}/webhook", "enabled_events": ["invoice.created"]}
    )
    program = load_program(meter, endpoint.secret, monkeypatch)
    stripe.api_base, stripe.api_version = emulator.url, PRE_BASIL
    with WebApp(program["app"], port):
        invoice = emulator.stripe_client().v1.invoices.create(params={"customer": "cus_demo_alice"})
        wait_for(lambda: items_on(emulator, invoice.id), "the invoice item")
        event = next(
            e
            for e in emulator.stripe_client()
            .v1.events.list(params={"type": "invoice.created"})
            .data
            if e.data.object.id == invoice.id
        )
        replayed = replay(emulator, port, event.id, endpoint.secret)
        items = items_on(emulator, invoice.id)
    assert replayed == 200
    assert [(i.quantity, i.amount, i.currency, i.description) for i in items] == [
        (ALICE_CALLS, ALICE_CALLS * 10, "usd", "API calls")
    ]


def replay(emu: EmulatorServer, port: int, event_id: str, secret: str) -> int:
    """Stripe sends the same event again (a retry, or `stripe events resend`)."""
    body = httpx.get(
        f"{emu.url}/v1/events/{event_id}",
        timeout=10,
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    ).json()
    payload = json.dumps(body)
    response = httpx.post(
        f"http://127.0.0.1:{port}/webhook",
        content=payload,
        timeout=30,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(payload, secret, int(time.time())),
        },
    )
    return response.status_code
