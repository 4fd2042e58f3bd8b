"""A tenant whose Stripe is the in-memory ``FakeStripePort``: the use cases of the pusher,
the invoice flow and reconciliation run unchanged against it, on a SQLite store copied
from the migrated template (no emulator, no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.stripe_mapping import mapping_from_dict
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.customers import METADATA_KEY
from stripemeter_server.service.stripe_sync.mappings import put_mapping
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow
from stripemeter_server.service.stripe_sync.sender import PushPolicy
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.workers.stripe_push import StripePushWorker
from tests.conftest import open_store
from tests.support.fake_stripe import FakeStripeFactory, FakeStripePort

T0 = 1768435200  # 2026-01-15T00:00:00Z: January's period is open
NOW = datetime.fromtimestamp(T0, UTC)
JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
JAN_S = (int(JAN[0].timestamp()), int(JAN[1].timestamp()))
FAST = PushPolicy(
    rate_live=10_000,
    rate_test=10_000,
    call_attempts=2,
    call_wait_initial=0.0,
    call_wait_max=0.0,
    first_retry_s=0.0,
    max_retry_s=0.0,
    lease_s=30,
    full_sweep_s=0.0,
    concurrency=1,
)
CREDENTIALS = StripeCredentials("sk_test_fake", None, "http://127.0.0.1:9")


@dataclass
class FakeEnv:
    store: Store
    clock: FrozenClock
    stripe: FakeStripePort
    ctx: ServiceContext

    def metric(self, code: str, aggregation: str = "sum", **mapping: Any) -> None:
        with self.store.unit_of_work("default") as uow:
            create_metric(
                uow,
                metric_from_dict(
                    {
                        "code": code,
                        "aggregation": aggregation,
                        "period": {"type": "month", "anchorDay": 1, "timezone": "UTC"},
                        "latenessWindow": "PT48H",
                    }
                ),
                self.clock.now(),
            )
            put_mapping(uow, mapping_from_dict({"metric": code, **mapping}), self.clock.now())
            uow.commit()

    def customer(self, ref: str) -> str:
        """A Stripe customer tied to ``ref`` by metadata; returns its Stripe id."""
        return self.stripe.add_customer(**{METADATA_KEY: ref})

    def ingest(
        self, metric: str, customer: str, quantity: str, ts: str = "2026-01-03T00:00:00Z"
    ) -> None:
        event = {"metric": metric, "customerRef": customer, "quantity": quantity, "ts": ts}
        with self.store.unit_of_work("default") as uow:
            outcome = ingest_batch(uow, [event], now=self.clock.now(), limits=EventLimits())
            uow.commit()
        assert all(r.status == "accepted" for r in outcome.results), outcome.results

    def push(self, policy: PushPolicy = FAST) -> None:
        """One pusher pass: plan what changed, send what is due."""
        StripePushWorker(self.ctx, policy).run_once(self.clock.now(), full=True)

    def rows(self) -> list[PushRow]:
        with self.store.unit_of_work("default", read_only=True) as uow:
            return uow.pushes.find(
                status=None, metric=None, customer_ref=None, before=None, limit=1000
            )


def fake_env(request: pytest.FixtureRequest, tmp_path: Any, *, configured: bool = True) -> FakeEnv:
    store = open_store("sqlite", request, tmp_path)
    request.addfinalizer(store.close)
    clock = FrozenClock(NOW)
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), "smk_test_fake_0001")
        uow.commit()
    factory = FakeStripeFactory()
    access = StripeAccess(environment=CREDENTIALS if configured else None, factory=factory)
    return FakeEnv(
        store, clock, factory.port, ServiceContext(store=store, clock=clock, stripe=access)
    )
