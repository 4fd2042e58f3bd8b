"""A tenant whose store is the in-memory ``FakeStore`` and whose Stripe is the in-memory
``FakeStripePort``: stripe sync, invoicing and reconciliation use cases run against both,
in milliseconds, at a frozen clock. Mappings are stored as domain values (no request
body), so these tests hold the use cases, not the wire format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.stripe_mapping import StripeMapping
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.customers import METADATA_KEY
from stripemeter_server.service.stripe_sync.mappings import encode_mapping
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow
from stripemeter_server.service.stripe_sync.sender import PushPolicy
from tests.support.fake_store import FakeStore
from tests.support.fake_stripe import FakeStripeFactory, FakeStripePort

TENANT = "default"  # the tenant the environment's Stripe account serves
NOW = datetime(2026, 1, 15, tzinfo=UTC)  # January's period is open
JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
JAN_S = (int(JAN[0].timestamp()), int(JAN[1].timestamp()))
CREDENTIALS = StripeCredentials("sk_test_fake", None, "http://127.0.0.1:9")
MONTHLY = {"type": "month", "anchorDay": 1, "timezone": "UTC"}
FAST = PushPolicy(
    rate_live=10_000,
    rate_test=10_000,
    call_attempts=1,
    call_wait_initial=0.0,
    call_wait_max=0.0,
    first_retry_s=0.0,
    max_retry_s=0.0,
    lease_s=30,
    concurrency=1,
)


@dataclass
class StripeEnv:
    store: FakeStore
    clock: FrozenClock
    stripe: FakeStripePort
    ctx: ServiceContext

    @property
    def now_us(self) -> int:
        return to_micros(self.clock.now())

    def map(self, mapping: StripeMapping) -> None:
        with self.store.unit_of_work(TENANT) as uow:
            uow.mappings.put(mapping.metric, encode_mapping(mapping), self.now_us)
            uow.commit()

    def customer(self, ref: str) -> str:
        """A Stripe customer tied to ``ref`` by metadata; its Stripe id."""
        return self.stripe.add_customer(**{METADATA_KEY: ref})

    def ingest(self, customer: str, quantity: str, key: str, metric: str = "calls") -> None:
        event = {
            "metric": metric,
            "customerRef": customer,
            "quantity": quantity,
            "ts": "2026-01-03T00:00:00Z",
            "idempotencyKey": key,
        }
        with self.store.unit_of_work(TENANT) as uow:
            outcome = ingest_batch(uow, [event], now=self.clock.now(), limits=EventLimits())
            uow.commit()
        assert [r.status for r in outcome.results] == ["accepted"]

    def rows(self) -> list[PushRow]:
        with self.store.unit_of_work(TENANT) as uow:
            found = uow.pushes.find(
                status=None, metric=None, customer_ref=None, before=None, limit=100
            )
        return sorted(found, key=lambda r: r.seq)


def stripe_env(metrics: list[dict[str, Any]], *, configured: bool = True) -> StripeEnv:
    store = FakeStore()
    clock = FrozenClock(NOW)
    store.add_tenant(TENANT, NOW, [{"period": MONTHLY, **m} for m in metrics])
    factory = FakeStripeFactory()
    access = StripeAccess(environment=CREDENTIALS if configured else None, factory=factory)
    # The fake has no URL or migrations; the use cases only open units of work on it.
    ctx = ServiceContext(store=store, clock=clock, stripe=access)  # type: ignore[arg-type]
    return StripeEnv(store, clock, factory.port, ctx)
