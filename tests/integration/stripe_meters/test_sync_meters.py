"""`stripemeter stripe sync-meters`: every meter_events mapping gets a meter that can hold
what the pusher sends, through the official library against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from stripe_emulator import EmulatorConfig, EmulatorServer
from stripemeter_server.api.app import create_app
from stripemeter_server.cli.main import app
from stripemeter_server.config import Settings
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.stripe_mapping import MeterFormula, mapping_from_dict
from stripemeter_server.service.catalog.definitions import load_metrics
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.mappings import list_mappings, put_mapping
from stripemeter_server.service.stripe_sync.meters import CREATED, MISSING, OK, REFUSED, sync_meters
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool, StripeGateway

SECRET = "sk_test_sync_meters_0001"
ADMIN = "smk_test_sync_meters_admin_01"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(auto_deliver_webhooks=False)) as server:
        yield server


@pytest.fixture
def gateway(emulator: EmulatorServer) -> Iterator[StripeGateway]:
    emulator.control("POST", "/reset")
    port = StripeGateway(
        StripeCredentials(SECRET, api_base=emulator.url),
        allowed_hosts=HostAllowList.of_urls(emulator.url),
    )
    yield port
    port.close()


def _mapped(
    store: Store, clock: FrozenClock, metrics: dict[str, str], mappings: list[dict[str, object]]
) -> None:
    with store.unit_of_work("default") as uow:
        bootstrap(uow, clock.now(), ADMIN, auto_create_metrics=True)
        for code, aggregation in metrics.items():
            create_metric(
                uow, metric_from_dict({"code": code, "aggregation": aggregation}), clock.now()
            )
        for mapping in mappings:
            put_mapping(uow, mapping_from_dict(mapping), clock.now())
        uow.commit()


def _sync(store: Store, gateway: StripeGateway, *, create: bool = True) -> dict[str, object]:
    with store.unit_of_work("default", read_only=True) as uow:
        mappings, metrics = list_mappings(uow), load_metrics(uow)
    return {c.metric: c for c in sync_meters(gateway, mappings, metrics, create=create)}


def test_missing_meters_are_created_with_the_formula_the_push_needs(
    store: Store, clock: FrozenClock, gateway: StripeGateway
) -> None:
    _mapped(
        store,
        clock,
        {"calls": "sum", "seats": "latest", "hits": "count"},
        [{"metric": "calls"}, {"metric": "seats"}, {"metric": "hits"}],
    )
    checks = _sync(store, gateway)
    assert {m: (c.status, c.formula) for m, c in checks.items()} == {  # type: ignore[attr-defined]
        "calls": (CREATED, "sum"),
        "seats": (CREATED, "last"),
        "hits": (CREATED, "sum"),
    }
    assert {(m.event_name, m.formula) for m in gateway.list_meters()} == {
        ("calls", "sum"),
        ("seats", "last"),
        ("hits", "sum"),
    }


def test_a_second_run_finds_them_ok_and_creates_nothing(
    store: Store, clock: FrozenClock, gateway: StripeGateway
) -> None:
    _mapped(store, clock, {"calls": "sum"}, [{"metric": "calls"}])
    _sync(store, gateway)
    assert _sync(store, gateway)["calls"].status == OK  # type: ignore[attr-defined]
    assert len(gateway.list_meters()) == 1


def test_a_meter_with_the_wrong_formula_is_refused_with_the_reason(
    store: Store, clock: FrozenClock, gateway: StripeGateway
) -> None:
    gateway.create_meter("seats", "Seats", MeterFormula.SUM)
    _mapped(store, clock, {"seats": "max"}, [{"metric": "seats"}])
    check = _sync(store, gateway)["seats"]
    assert check.status == REFUSED  # type: ignore[attr-defined]
    assert "needs 'last'" in check.reason  # type: ignore[attr-defined]


def test_check_only_reports_missing_meters(
    store: Store, clock: FrozenClock, gateway: StripeGateway
) -> None:
    _mapped(store, clock, {"calls": "sum"}, [{"metric": "calls", "meterEventName": "api.calls"}])
    assert _sync(store, gateway, create=False)["calls"].status == MISSING  # type: ignore[attr-defined]
    assert gateway.list_meters() == []


def test_other_modes_need_no_meter(
    store: Store, clock: FrozenClock, gateway: StripeGateway
) -> None:
    _mapped(store, clock, {"calls": "sum"}, [{"metric": "calls", "mode": "invoice_items"}])
    assert _sync(store, gateway) == {}


def test_the_command_prints_a_table_and_fails_on_a_refusal(
    tmp_path: Path, clock: FrozenClock, emulator: EmulatorServer, gateway: StripeGateway
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    store.migrate()
    _mapped(
        store,
        clock,
        {"calls": "sum", "seats": "latest"},
        [{"metric": "calls"}, {"metric": "seats"}],
    )
    store.close()
    gateway.create_meter("seats", "Seats", MeterFormula.SUM)
    env = {
        "STRIPEMETER_DATABASE_URL": url,
        "STRIPEMETER_STRIPE_SECRET_KEY": SECRET,
        "STRIPEMETER_STRIPE_API_BASE": emulator.url,
    }
    result = CliRunner().invoke(app, ["stripe", "sync-meters"], env=env)
    assert result.exit_code == 1
    assert "created" in result.output and "refused" in result.output
    assert SECRET not in result.output


def test_the_command_names_an_unknown_tenant(tmp_path: Path) -> None:
    env = {"STRIPEMETER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    result = CliRunner().invoke(app, ["stripe", "sync-meters", "--tenant", "ghost"], env=env)
    assert result.exit_code == 1 and "ghost" in result.output


@pytest.fixture
def api(
    store: Store, clock: FrozenClock, emulator: EmulatorServer, gateway: StripeGateway
) -> Iterator[TestClient]:
    _mapped(store, clock, {"calls": "sum"}, [{"metric": "calls"}])
    pool = GatewayPool(allowed_hosts=HostAllowList.of_urls(emulator.url))
    access = StripeAccess(
        environment=StripeCredentials(SECRET, api_base=emulator.url), factory=pool
    )
    app = create_app(
        Settings(database_url=store.url),
        context=ServiceContext(store=store, clock=clock, stripe=access),
    )
    try:
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN}"
            yield client
    finally:
        pool.close()  # the app closes only what it built; this pool is the test's


def test_the_api_creates_the_meters(api: TestClient, gateway: StripeGateway) -> None:
    response = api.post("/v1/stripe/meters/sync")
    assert response.status_code == 200
    assert [(c["metric"], c["status"]) for c in response.json()["data"]] == [("calls", CREATED)]
    assert [m.event_name for m in gateway.list_meters()] == ["calls"]


def test_the_api_check_creates_nothing(api: TestClient, gateway: StripeGateway) -> None:
    assert (
        api.post("/v1/stripe/meters/sync", params={"check": "true"}).json()["data"][0]["status"]
        == MISSING
    )
    assert gateway.list_meters() == []


def test_stripe_failing_is_a_503_problem_not_a_500(
    api: TestClient, emulator: EmulatorServer
) -> None:
    emulator.control(
        "POST", "/faults", {"kind": "server_error", "path": "/v1/billing/meters", "count": 5}
    )
    response = api.post("/v1/stripe/meters/sync")
    emulator.control("DELETE", "/faults")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_tenant_without_a_stripe_account_gets_409(store: Store, clock: FrozenClock) -> None:
    _mapped(store, clock, {"calls": "sum"}, [{"metric": "calls"}])
    app = create_app(
        Settings(database_url=store.url), context=ServiceContext(store=store, clock=clock)
    )
    with TestClient(app) as client:
        response = client.post(
            "/v1/stripe/meters/sync", headers={"Authorization": f"Bearer {ADMIN}"}
        )
    assert (response.status_code, response.json()["code"]) == (409, "stripe_not_configured")
