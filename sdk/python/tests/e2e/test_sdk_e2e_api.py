"""The SDK's surface against a real server: metrics, usage, query, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sdk_server import Server
from stripemeter import (
    AggType,
    AuthenticationError,
    ConflictError,
    EventRejectedError,
    MetricSchema,
    PeriodType,
    PermissionDeniedError,
    StripeMeterClient,
    current_billing_period,
)


def client_for(server: Server, **kw: object) -> StripeMeterClient:
    kw.setdefault("api_key", server.api_key)
    kw.setdefault("tenant_id", "default")
    return StripeMeterClient(server.url, **kw)  # type: ignore[arg-type]


def test_creating_an_identical_metric_twice_is_fine(shared_server: Server, unique: str) -> None:
    schema = MetricSchema(
        f"m_{unique}", agg_type=AggType.MAX, period_type=PeriodType.CALENDAR, billing_cycle_day=15
    )
    with client_for(shared_server) as client:
        first = client.metrics.create(schema)
        second = client.metrics.create(schema)
    assert first == second


def test_a_different_definition_is_a_conflict(shared_server: Server, unique: str) -> None:
    with client_for(shared_server) as client:
        client.metrics.create(MetricSchema(f"m_{unique}", agg_type=AggType.SUM))
        with pytest.raises(ConflictError):
            client.metrics.create(MetricSchema(f"m_{unique}", agg_type=AggType.COUNT))


def test_metrics_get_and_list(shared_server: Server, unique: str) -> None:
    with client_for(shared_server) as client:
        client.metrics.create(MetricSchema(f"m_{unique}", agg_type=AggType.COUNT_UNIQUE))
        got = client.metrics.get(f"m_{unique}")
        listed = {m.code for m in client.metrics.list()}
    assert (got.aggregation, f"m_{unique}" in listed) == ("unique_count", True)


def test_metrics_update(shared_server: Server, unique: str) -> None:
    with client_for(shared_server) as client:
        client.metrics.create(MetricSchema(f"m_{unique}", agg_type=AggType.SUM))
        updated = client.metrics.update(f"m_{unique}", {"displayName": "Renamed"})
    assert updated.display_name == "Renamed"


def test_query_returns_typed_aggregates(shared_server: Server, unique: str) -> None:
    metric, customer = f"m_{unique}", f"cus_{unique}"
    with client_for(shared_server) as client:
        client.metrics.create(MetricSchema(metric, agg_type=AggType.SUM))
        for quantity in ("1.25", "2", "0.75"):
            client.track(metric, customer, quantity=quantity)
        value = client.query(customer, metric, current_billing_period(1)).value
    assert (value.count, value.sum, value.max, value.min) == (
        3,
        Decimal("4"),
        Decimal("2"),
        Decimal("0.75"),
    )


def test_get_usage_reports_the_live_total(shared_server: Server, unique: str) -> None:
    metric, customer = f"m_{unique}", f"cus_{unique}"
    with client_for(shared_server, customer_id=customer) as client:
        client.track(metric, quantity=100)
        usage = client.get_usage()
    assert usage[metric].value == Decimal(100)


def test_event_too_far_in_the_future_is_rejected(shared_server: Server, unique: str) -> None:
    with client_for(shared_server) as client, pytest.raises(EventRejectedError):
        client.track(f"m_{unique}", f"cus_{unique}", ts=datetime.now(UTC) + timedelta(hours=2))


def test_wrong_api_key_is_an_authentication_error(shared_server: Server) -> None:
    with (
        client_for(shared_server, api_key="sk_wrong_" + "x" * 20) as client,
        pytest.raises(AuthenticationError),
    ):
        client.get_usage("cus_1")


def test_tenant_other_than_the_keys_is_refused(shared_server: Server, unique: str) -> None:
    with (
        client_for(shared_server, tenant_id="someone_else") as client,
        pytest.raises(PermissionDeniedError),
    ):
        client.track(f"m_{unique}", f"cus_{unique}")


def test_a_portal_token_minted_by_the_sdk_reads_its_customer(
    shared_server: Server, unique: str
) -> None:
    import httpx

    with client_for(shared_server) as client:
        minted = client.portal.create_token(f"cus_{unique}", expires_in=600)
    me = httpx.get(
        f"{shared_server.url}/portal/v1/me", headers={"Authorization": f"Bearer {minted.token}"}
    ).json()
    assert me["customerRef"] == f"cus_{unique}"
