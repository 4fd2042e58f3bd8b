"""The invoice webhook flow end to end: the app in process on each store, the Stripe
emulator on 127.0.0.1, and a loopback relay between them.

The emulator delivers its signed webhooks over real HTTP to the relay, which records each
request (so a test can replay the exact body and signature) and hands it to the app through
the in-process client — the app's after-commit job has run when the relay answers, so tests
assert on results without waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stripe_emulator import EmulatorClock, EmulatorConfig, EmulatorServer
from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.ports.stripe import StripeCredentials, StripePort
from stripemeter_server.service.stripe_sync.accounts import AccountPolicy
from stripemeter_server.storage.secret_box import SecretBox
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool

JAN_1 = 1767225600  # 2026-01-01T00:00:00Z: the subscription's anchor and the emulator's start
FEB_1 = 1769904000  # 2026-02-01T00:00:00Z: the first renewal
KEY = "smk_test_invoice_flow_0001"


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class Delivery:
    body: bytes
    signature: str
    status: int


@dataclass
class Relay:
    url: str = ""
    target: Callable[[bytes, str], int] | None = None
    deliveries: list[Delivery] = field(default_factory=list)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(clock=EmulatorClock(frozen_at=JAN_1), auto_deliver_webhooks=False)
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture(scope="session")
def relay() -> Iterator[Relay]:
    state = Relay()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signature = self.headers.get("Stripe-Signature", "")
            assert state.target is not None
            status = state.target(body, signature)
            with lock:
                state.deliveries.append(Delivery(body, signature, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/stripe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


class PortHook:
    """Wraps the real adapter so a test can make one call fail like a crash."""

    def __init__(self, pool: GatewayPool) -> None:
        self.pool = pool
        self.before_create: Callable[[], None] | None = None
        self.after_create: Callable[[], None] | None = None
        self.creates = 0

    def __call__(self, credentials: StripeCredentials) -> StripePort:
        return _HookedPort(self, self.pool(credentials))


class _HookedPort:
    def __init__(self, hook: PortHook, inner: Any) -> None:
        self._hook, self._inner = hook, inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create_invoice_item(self, params: dict[str, Any], idempotency_key: str) -> Any:
        return self._create(lambda: self._inner.create_invoice_item(params, idempotency_key))

    def create_credit_grant(self, grant: Any) -> Any:
        return self._create(lambda: self._inner.create_credit_grant(grant))

    def _create(self, create: Callable[[], Any]) -> Any:
        if self._hook.before_create is not None:
            crash, self._hook.before_create = self._hook.before_create, None
            crash()
        self._hook.creates += 1
        item = create()
        if self._hook.after_create is not None:
            crash, self._hook.after_create = self._hook.after_create, None
            crash()
        return item


@dataclass
class Flow:
    """Our app (tenant ``default``), the emulator, and the Stripe objects of one test."""

    http: TestClient
    store: Store
    clock: FrozenClock
    ctx: ServiceContext
    emulator: EmulatorServer
    stripe: Any
    relay: Relay
    hook: PortHook
    webhook_secret: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {KEY}"}

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str, body: Any) -> Any:
        response = self.http.request(method, path, json=body, headers=self.headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def post_webhook(self, body: bytes, signature: str | None) -> Any:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        return self.http.post("/v1/stripe/webhook/default", content=body, headers=headers)

    def deliver(self) -> list[dict[str, Any]]:
        reports: list[dict[str, Any]] = self.emulator.control("POST", "/webhooks/deliver")["data"]
        return reports

    def advance_stripe(self, seconds: int) -> dict[str, Any]:
        result: dict[str, Any] = self.emulator.control(
            "POST", "/clock/advance", {"seconds": seconds}
        )
        return result


@pytest.fixture
def flow(store: Store, emulator: EmulatorServer, relay: Relay) -> Iterator[Flow]:
    emulator.control("POST", "/reset")
    emulator.emulator.clock.restore({"frozen_at": JAN_1, "offset": 0})
    relay.deliveries.clear()
    clock = FrozenClock(at(JAN_1 + 14 * 86400))
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), KEY, auto_create_metrics=True)
        uow.commit()
    hook = PortHook(GatewayPool(allowed_hosts=HostAllowList.of_urls(emulator.url)))
    hosts = HostAllowList.of_urls(emulator.url)
    ctx = ServiceContext(
        store=store,
        clock=clock,
        stripe=StripeAccess(
            cipher=SecretBox("x" * 32), factory=hook, policy=AccountPolicy(allowed_hosts=hosts)
        ),
    )
    app = create_app(Settings(database_url=store.url), context=ctx)
    with TestClient(app) as http:
        flow = Flow(http, store, clock, ctx, emulator, emulator.stripe_client(), relay, hook)

        def forward(body: bytes, signature: str) -> int:
            return int(flow.post_webhook(body, signature).status_code)

        relay.target = forward
        endpoint = flow.stripe.v1.webhook_endpoints.create(
            params={"url": relay.url, "enabled_events": ["invoice.created", "invoice.finalized"]}
        )
        flow.webhook_secret = str(endpoint.secret)
        flow.send(
            "PUT",
            "/v1/stripe/account",
            {
                "secretKey": "sk_test_invoice_flow",
                "webhookSecret": flow.webhook_secret,
                "apiBase": emulator.url,
            },
        )
        yield flow
        relay.target = None
    hook.pool.close()
