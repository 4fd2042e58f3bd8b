"""Entitlement checks over HTTP, on both stores, straight from the live counters."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.entitlements.conftest import grant, track
from tests.support.app_client import Client


def test_usage_includes_the_events_just_ingested(client: Client) -> None:
    grant(client, "cus_1", "100")
    track(client, "cus_1", "30.5", "e1")
    body = client.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert (body["usage"], body["limit"], body["balance"], body["hasAccess"]) == (
        "30.5",
        "100",
        "69.5",
        True,
    )


def test_reaching_a_hard_limit_takes_access_away(client: Client) -> None:
    grant(client, "cus_1", "10")
    track(client, "cus_1", "10", "e1")
    body = client.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert (body["hasAccess"], body["reason"], body["balance"]) == (False, "limit_reached", "0")


def test_an_overage_allowance_keeps_access_past_the_limit(client: Client) -> None:
    grant(client, "cus_1", "10", overage="5")
    track(client, "cus_1", "12", "e1")
    body = client.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert (body["hasAccess"], body["balance"], body["headroom"]) == (True, "-2", "3")


def test_a_soft_limit_reports_the_overrun_but_keeps_access(client: Client) -> None:
    grant(client, "cus_1", "10", enforcement="soft")
    track(client, "cus_1", "11", "e1")
    body = client.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert (body["hasAccess"], body["reason"]) == (True, "over_soft_limit")


def test_resets_at_is_the_end_of_the_billing_period(client: Client) -> None:
    grant(client, "cus_1", "10")
    body = client.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert body["resetsAt"] == "2025-02-01T00:00:00.000000Z"


def test_a_daily_reset_counts_only_todays_usage(client: Client) -> None:
    client.put("/v1/features/tokens", {"type": "metered", "metric": "tokens", "reset": "day"})
    grant(client, "cus_1", "10")
    track(client, "cus_1", "4", "e1", ts="2025-01-15T10:00:00Z")
    track(client, "cus_1", "3", "e2", ts="2025-01-16T10:00:00Z")
    body = client.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert (body["usage"], body["resetsAt"]) == ("3", "2025-01-17T00:00:00.000000Z")


def test_a_feature_filter_counts_only_matching_events(client: Client) -> None:
    client.put(
        "/v1/features/large",
        {"type": "metered", "metric": "tokens", "filter": {"meta.model": "large"}},
    )
    client.put("/v1/customers/cus_1/entitlements/large", {"limit": "100"})
    track(client, "cus_1", "7", "e1", meta={"model": "large"})
    track(client, "cus_1", "5", "e2", meta={"model": "small"})
    assert client.get("/v1/customers/cus_1/entitlements/large").json()["usage"] == "7"


def test_an_extra_grant_adds_to_the_limit_of_the_window(client: Client) -> None:
    grant(client, "cus_1", "10")
    client.post(
        "/v1/customers/cus_1/entitlements/tokens/extra-grants",
        {"amount": "2.5", "idempotencyKey": "pack-1"},
    )
    client.post(
        "/v1/customers/cus_1/entitlements/tokens/extra-grants",
        {"amount": "2.5", "idempotencyKey": "pack-1"},
    )
    assert client.get("/v1/customers/cus_1/entitlements/tokens").json()["limit"] == "12.5"


def test_an_extra_grant_ends_with_its_window(client: Client) -> None:
    grant(client, "cus_1", "10")
    client.post("/v1/customers/cus_1/entitlements/tokens/extra-grants", {"amount": "5"})
    client.clock.advance(timedelta(days=31))
    assert client.get("/v1/customers/cus_1/entitlements/tokens").json()["limit"] == "10"


def test_a_grant_not_yet_effective_gives_no_access(client: Client) -> None:
    grant(client, "cus_1", "10", effectiveAt="2025-02-01T00:00:00Z")
    body = client.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert (body["hasAccess"], body["reason"]) == (False, "not_yet_effective")


def test_an_expired_grant_gives_no_access(client: Client) -> None:
    grant(client, "cus_1", "10", expiresAt="2025-01-10T00:00:00Z")
    assert client.get("/v1/customers/cus_1/entitlements/tokens").json()["reason"] == "expired"


def test_a_boolean_feature_is_on_with_a_grant(client: Client) -> None:
    client.put("/v1/features/sso", {"type": "boolean"})
    client.put("/v1/customers/cus_1/entitlements/sso", {})
    assert client.get("/v1/customers/cus_1/entitlements/sso").json()["hasAccess"] is True


def test_a_static_grant_overrides_the_feature_config(client: Client) -> None:
    client.put("/v1/features/seats", {"type": "static", "config": 5})
    client.put("/v1/customers/cus_1/entitlements/seats", {"config": 20})
    assert client.get("/v1/customers/cus_1/entitlements/seats").json()["config"] == 20


def test_the_list_shows_every_feature_granted_or_not(client: Client) -> None:
    client.put("/v1/features/sso", {"type": "boolean"})
    grant(client, "cus_1", "10")
    data = client.get("/v1/customers/cus_1/entitlements").json()["data"]
    assert [(a["feature"], a["hasAccess"]) for a in data] == [("sso", False), ("tokens", True)]


def test_check_allows_a_quantity_within_the_headroom(client: Client) -> None:
    grant(client, "cus_1", "10")
    track(client, "cus_1", "6", "e1")
    body = client.post(
        "/v1/entitlements/check", {"customerRef": "cus_1", "feature": "tokens", "quantity": "4"}
    ).json()
    assert (body["allowed"], body["balance"]) == (True, "4")


def test_check_refuses_a_quantity_past_the_headroom(client: Client) -> None:
    grant(client, "cus_1", "10")
    body = client.post(
        "/v1/entitlements/check", {"customerRef": "cus_1", "feature": "tokens", "quantity": "10.5"}
    ).json()
    assert body["allowed"] is False


def test_check_records_nothing(client: Client) -> None:
    grant(client, "cus_1", "10")
    client.post(
        "/v1/entitlements/check", {"customerRef": "cus_1", "feature": "tokens", "quantity": "4"}
    )
    assert client.get("/v1/customers/cus_1/entitlements/tokens").json()["usage"] == "0"


def test_a_deleted_metric_takes_access_away_without_breaking_the_list(client: Client) -> None:
    grant(client, "cus_1", "10")
    client.delete("/v1/metrics/tokens")
    data = client.get("/v1/customers/cus_1/entitlements").json()["data"]
    assert [(a["hasAccess"], a["reason"]) for a in data] == [(False, "metric_not_found")]
