"""Helpers for the push tests: a tenant wired to the emulator, ingest, drain, totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from stripe_emulator import EmulatorServer
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.stripe_mapping import MeterFormula, mapping_from_dict
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.corrections import adjustments as corrections
from stripemeter_server.service.corrections.commands import adjustment_command
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.mappings import put_mapping
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow
from stripemeter_server.service.stripe_sync.sender import PushPolicy
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool, StripeGateway
from stripemeter_server.workers.stripe_push import PassReport, StripePushWorker

# 2026-01-15T00:00:00Z (the emulator's frozen time): January's period is open.
T0 = 1768435200
NOW = datetime.fromtimestamp(T0, UTC)
JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
DEC = (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
TEST_KEY = "smk_test_push_0001"
FAST = PushPolicy(
    rate_live=10_000,
    rate_test=10_000,
    call_attempts=2,
    call_wait_initial=0.001,
    call_wait_max=0.002,
    first_retry_s=0.0,
    max_retry_s=0.0,
    lease_s=30,
    full_sweep_s=0.0,
)


@dataclass
class Env:
    store: Store
    emu: EmulatorServer
    clock: FrozenClock
    ctx: ServiceContext
    gateway: StripeGateway
    pool: GatewayPool
    meters: dict[str, str] = field(default_factory=dict)

    def worker(self, policy: PushPolicy = FAST, **kwargs: Any) -> StripePushWorker:
        return StripePushWorker(self.ctx, policy, **kwargs)

    def metric(
        self,
        code: str,
        aggregation: str = "sum",
        *,
        meter: bool = True,
        formula: str | None = None,
        **mapping: Any,
    ) -> None:
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
        if meter:
            self.meter(code, formula or ("last" if aggregation in ("latest", "max") else "sum"))

    def meter(self, event_name: str, formula: str = "sum") -> str:
        info = self.gateway.create_meter(event_name, event_name, MeterFormula(formula))
        self.meters[event_name] = info.meter_id
        return info.meter_id

    def customer(self, name: str = "Acme", **metadata: str) -> str:
        created = self.gateway.call(
            lambda c: c.v1.customers.create(params={"name": name, "metadata": metadata})
        )
        return str(created.id)

    def ingest(self, *events: dict[str, Any]) -> None:
        with self.store.unit_of_work("default") as uow:
            outcome = ingest_batch(uow, list(events), now=self.clock.now(), limits=EventLimits())
            uow.commit()
        assert all(r.status == "accepted" for r in outcome.results), outcome.results

    def adjust(self, metric: str, customer: str, delta: str, at: datetime | None = None) -> None:
        with self.store.unit_of_work("default") as uow:
            corrections.create_adjustment(
                uow,
                adjustment_command(
                    metric=metric,
                    customer_ref=customer,
                    delta_raw=delta,
                    reason="correction",
                    note=None,
                    at=at,
                ),
                actor="test",
                now=self.clock.now(),
            )
            uow.commit()

    def void(self, key: str) -> None:
        with self.store.unit_of_work("default") as uow:
            corrections.void_event(uow, key, self.clock.now())
            uow.commit()

    def local(self, metric: str, customer: str, period: tuple[datetime, datetime]) -> Decimal:
        from stripemeter_server.service.catalog.definitions import load_metrics

        with self.store.unit_of_work("default", read_only=True) as uow:
            agg = load_metrics(uow)[metric].aggregation
            counter = uow.counters.get((metric, customer, to_micros(period[0])))
        value = counter.state.value(agg) if counter else None
        return value if value is not None else Decimal(0)

    def stripe_total(
        self, event_name: str, customer: str, period: tuple[datetime, datetime]
    ) -> Decimal:
        return self.gateway.meter_total(
            self.meters[event_name],
            customer,
            int(period[0].timestamp()),
            int(period[1].timestamp()),
        )

    def drain(self, worker: StripePushWorker | None = None, passes: int = 50) -> PassReport:
        """Run passes until one plans and claims nothing (bounded)."""
        worker = worker or self.worker()
        for _ in range(passes):
            report = worker.run_once(self.clock.now(), full=True)
            if report.planned == 0 and report.claimed == 0:
                return report
        left = [(r.status, r.last_error_code, r.last_error) for r in self.rows()]
        raise AssertionError(f"pushes did not settle: {left}")

    def rows(self, **filters: Any) -> list[PushRow]:
        with self.store.unit_of_work("default", read_only=True) as uow:
            return uow.pushes.find(
                status=filters.get("status"),
                metric=filters.get("metric"),
                customer_ref=filters.get("customer"),
                before=None,
                limit=1000,
            )

    def advance(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.emu.control("POST", "/clock/advance", {"seconds": seconds})


def emulator_events(emu: EmulatorServer) -> list[dict[str, Any]]:
    body = emu.control("GET", "/meter_events")
    return list(body["data"] if isinstance(body, dict) else body)


def assert_identifiers_consistent(emu: EmulatorServer) -> None:
    """No identifier was ever accepted twice, nor with two different values."""
    seen: dict[str, str] = {}
    for event in emulator_events(emu):
        ident, value = event["identifier"], event["payload"]["value"]
        assert ident not in seen or seen[ident] == value, (ident, seen[ident], value)
        assert ident not in seen, f"identifier {ident} accepted twice"
        seen[ident] = value


def build_env(
    store: Store, emu: EmulatorServer, *, timeout: float = 5.0, bootstrap_tenant: bool = True
) -> Env:
    clock = FrozenClock(NOW)
    if bootstrap_tenant:
        with store.unit_of_work() as uow:
            bootstrap(uow, clock.now(), TEST_KEY, auto_create_metrics=True)
            uow.commit()
    pool = GatewayPool(timeout_seconds=timeout, allowed_hosts=HostAllowList.of_urls(emu.url))
    credentials = StripeCredentials("sk_test_push_tests", None, emu.url)
    ctx = ServiceContext(
        store=store, clock=clock, stripe=StripeAccess(environment=credentials, factory=pool)
    )
    return Env(store, emu, clock, ctx, pool(credentials), pool)
