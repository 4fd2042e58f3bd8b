"""`/v1/stripe/account` and `/v1/mappings`: secrets go in and never come out; mappings are
validated by field and scoped to the tenant (on both stores)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.operations.tenancy import bootstrap, create_tenant, issue_key
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.accounts import AccountPolicy
from stripemeter_server.storage.schema import stripe_accounts
from stripemeter_server.storage.secret_box import SecretBox
from stripemeter_server.storage.unit_of_work import Store

ADMIN = "smk_test_stripe_admin_0001"
SECRET = "sk_test_TopSecretValue9876"
WEBHOOK = "whsec_AlsoSecretValue5432"
EMULATOR = "http://127.0.0.1:12111"


def _client(store: Store, clock: FrozenClock, access: StripeAccess) -> TestClient:
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), ADMIN, auto_create_metrics=True)
        uow.commit()
    ctx = ServiceContext(store=store, clock=clock, stripe=access)
    return TestClient(create_app(Settings(database_url=store.url), context=ctx))


@pytest.fixture
def http(store: Store, clock: FrozenClock) -> Iterator[TestClient]:
    access = StripeAccess(
        cipher=SecretBox("k" * 32),
        policy=AccountPolicy(allowed_hosts=HostAllowList.of_urls(EMULATOR)),
    )
    with _client(store, clock, access) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN}"
        yield client


def _key(store: Store, clock: FrozenClock, tenant: str, scopes: set[str]) -> str:
    with store.unit_of_work() as uow:
        if uow.tenants.get(tenant) is None:
            create_tenant(uow, tenant, name=None, auto_create_metrics=True, now=clock.now())
        issued = issue_key(uow, tenant, frozenset(scopes), label=None, now=clock.now())
        uow.commit()
    return issued.secret


def test_an_unconfigured_account_says_so(http: TestClient) -> None:
    assert http.get("/v1/stripe/account").json()["configured"] is False


def test_put_account_shows_last4_and_mode_never_the_secrets(http: TestClient) -> None:
    body = http.put(
        "/v1/stripe/account",
        json={"secretKey": SECRET, "webhookSecret": WEBHOOK, "apiBase": EMULATOR},
    )
    assert body.status_code == 200
    shown = http.get("/v1/stripe/account")
    assert shown.json() == {
        "configured": True,
        "source": "api",
        "livemode": False,
        "keyLast4": "9876",
        "webhookSecretConfigured": True,
        "previousWebhookSecretValidUntil": None,
        "apiBase": EMULATOR,
    }
    assert SECRET not in body.text + shown.text and WEBHOOK not in body.text + shown.text


def test_secrets_are_encrypted_at_rest(http: TestClient, store: Store) -> None:
    http.put("/v1/stripe/account", json={"secretKey": SECRET, "webhookSecret": WEBHOOK})
    with store.engine.connect() as conn:
        row = conn.execute(select(stripe_accounts)).one()
    assert SECRET not in str(tuple(row)) and WEBHOOK not in str(tuple(row))


def test_stored_credentials_open_for_the_tenant(http: TestClient, store: Store) -> None:
    http.put("/v1/stripe/account", json={"secretKey": SECRET, "webhookSecret": WEBHOOK})
    access = StripeAccess(cipher=SecretBox("k" * 32))
    with store.unit_of_work("default", read_only=True) as uow:
        assert access.credentials(uow) == StripeCredentials(SECRET, WEBHOOK, None)


def test_an_invalid_key_is_refused_without_echoing_it(http: TestClient) -> None:
    response = http.put("/v1/stripe/account", json={"secretKey": "pk_test_NotASecretKey77"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "secretKey"
    assert "NotASecretKey77" not in response.text


def test_without_a_secret_key_setting_the_account_cannot_be_stored(
    store: Store, clock: FrozenClock
) -> None:
    with _client(store, clock, StripeAccess(cipher=None)) as client:
        response = client.put(
            "/v1/stripe/account",
            json={"secretKey": SECRET},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
    assert response.status_code == 409
    assert response.json()["code"] == "secret_key_not_configured"


def test_the_environment_account_configures_the_default_tenant(
    store: Store, clock: FrozenClock
) -> None:
    access = StripeAccess(environment=StripeCredentials("sk_live_EnvironmentKey1111"))
    with _client(store, clock, access) as client:
        shown = client.get(
            "/v1/stripe/account", headers={"Authorization": f"Bearer {ADMIN}"}
        ).json()
    assert (shown["source"], shown["livemode"], shown["keyLast4"]) == ("environment", True, "1111")


def test_reading_the_account_needs_the_admin_scope(
    http: TestClient, store: Store, clock: FrozenClock
) -> None:
    reader = _key(store, clock, "default", {"read"})
    response = http.get("/v1/stripe/account", headers={"Authorization": f"Bearer {reader}"})
    assert response.status_code == 403


def test_mapping_crud(http: TestClient) -> None:
    http.post("/v1/metrics", json={"code": "api_calls", "aggregation": "sum"})
    created = http.post("/v1/mappings", json={"metric": "api_calls", "precision": 2})
    assert created.status_code == 201 and created.json()["precision"] == 2
    replaced = http.put("/v1/mappings/api_calls", json={"transport": "v2_stream"})
    assert replaced.status_code == 200 and replaced.json()["transport"] == "v2_stream"
    assert [m["metric"] for m in http.get("/v1/mappings").json()["data"]] == ["api_calls"]
    assert http.delete("/v1/mappings/api_calls").status_code == 204
    assert http.get("/v1/mappings/api_calls").status_code == 404


def test_a_mapping_for_an_unknown_metric_names_the_field(http: TestClient) -> None:
    response = http.post("/v1/mappings", json={"metric": "nosuch"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "metric"


def test_a_path_and_body_metric_that_differ_are_refused(http: TestClient) -> None:
    http.post("/v1/metrics", json={"code": "api_calls", "aggregation": "sum"})
    response = http.put("/v1/mappings/api_calls", json={"metric": "other"})
    assert response.status_code == 422


def test_mappings_are_invisible_to_other_tenants(
    http: TestClient, store: Store, clock: FrozenClock
) -> None:
    http.post("/v1/metrics", json={"code": "api_calls", "aggregation": "sum"})
    http.post("/v1/mappings", json={"metric": "api_calls"})
    other = {"Authorization": f"Bearer {_key(store, clock, 'other', {'admin'})}"}
    assert http.get("/v1/mappings/api_calls", headers=other).status_code == 404
    assert http.get("/v1/mappings", headers=other).json()["data"] == []
    assert http.delete("/v1/mappings/api_calls", headers=other).status_code == 404
    assert http.get("/v1/stripe/account", headers=other).json()["configured"] is False
