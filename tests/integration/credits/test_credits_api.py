"""Prepaid credit over HTTP, on both stores: grants, the live burn-down in priority then
expiry order, units before money, voids, burn rate and run-out."""

from __future__ import annotations

from tests.integration.credits.conftest import credits, event, grant, track
from tests.support.app_client import Client


def remaining(client: Client) -> dict[str, str]:
    return {g["idempotencyKey"]: g["remaining"] for g in credits(client)["grants"]}


def test_a_grant_answers_its_terms(client: Client) -> None:
    response = grant(client, "100.00", "g1", priority=5, appliesTo=["tokens"])
    body = response.json()
    assert (
        response.status_code,
        body["amount"],
        body["currency"],
        body["priority"],
        body["appliesTo"],
    ) == (201, "100", "usd", 5, ["tokens"])


def test_the_same_idempotency_key_answers_the_first_grant(client: Client) -> None:
    first = grant(client, "100", "g1").json()
    again = grant(client, "100", "g1")
    assert (again.status_code, again.json()["id"]) == (200, first["id"])


def test_an_idempotency_key_reused_for_other_terms_is_409(client: Client) -> None:
    grant(client, "100", "g1")
    assert grant(client, "101", "g1").json()["code"] == "idempotency_key_reused"


def test_usage_burns_its_priced_cost_live(client: Client) -> None:
    grant(client, "100", "g1")
    track(client, [event("3000", "e1")])  # 2000 billable tokens at 0.2 cents: $4
    body = credits(client)
    assert (body["balances"][0]["balance"], body["grants"][0]["remaining"]) == ("96", "96")


def test_the_minimum_charge_is_burned_too(client: Client) -> None:
    grant(client, "100", "g1")
    track(client, [event("10", "e1")])  # within the free tier: the $1 minimum
    assert credits(client)["balances"][0]["balance"] == "99"


def test_grants_are_drawn_in_priority_order(client: Client) -> None:
    grant(client, "3", "low-first", priority=1)
    grant(client, "100", "later", priority=2)
    track(client, [event("3000", "e1")])  # $4
    assert remaining(client) == {"low-first": "0", "later": "99"}


def test_equal_priorities_draw_the_soonest_expiry_first(client: Client) -> None:
    grant(client, "100", "late", expiresAt="2025-12-01T00:00:00Z")
    grant(client, "100", "soon", expiresAt="2025-06-01T00:00:00Z")
    track(client, [event("3000", "e1")])
    assert remaining(client) == {"late": "100", "soon": "96"}


def test_applies_to_keeps_a_grant_off_other_metrics(client: Client) -> None:
    grant(client, "100", "images-only", appliesTo=["images"])
    track(client, [event("3000", "e1"), event("10", "e2", metric="images")])  # $0.50 images
    assert remaining(client) == {"images-only": "99.5"}


def test_unit_credit_is_drawn_before_the_rest_is_priced(client: Client) -> None:
    grant(client, "1000", "free-tokens", unit="tokens")
    grant(client, "100", "money")
    track(client, [event("3000", "e1")])  # 2000 priced tokens: 1000 free tier, 1000 at 0.2c
    assert remaining(client) == {"free-tokens": "0", "money": "98"}


def test_a_voided_grant_keeps_what_billed_periods_drew(client: Client) -> None:
    client.post("/v1/metrics", {"code": "calls", "aggregation": "sum", "period": {"type": "day"}})
    client.put("/v1/prices/calls", {"model": "per_unit", "currency": "usd", "unitAmount": "1"})
    first = grant(client, "100", "g1", effectiveAt="2025-01-01T00:00:00Z").json()
    track(client, [event("4", "e1", metric="calls", ts="2025-01-14T10:00:00Z")])
    client.post(f"/v1/customers/cus_1/credit-grants/{first['id']}/void", None)
    body = credits(client)
    assert (
        body["grants"][0]["status"],
        body["grants"][0]["drawn"],
        body["balances"][0]["balance"],
    ) == ("voided", "4", "0")


def test_a_voided_grant_no_longer_pays_the_open_period(client: Client) -> None:
    first = grant(client, "100", "g1").json()
    track(client, [event("3000", "e1")])
    client.post(f"/v1/customers/cus_1/credit-grants/{first['id']}/void", None)
    assert credits(client)["grants"][0]["drawn"] == "0"


def test_a_grant_not_yet_effective_is_pending_and_draws_nothing(client: Client) -> None:
    grant(client, "100", "g1", effectiveAt="2025-03-01T00:00:00Z")
    track(client, [event("3000", "e1")])
    body = credits(client)
    assert (body["grants"][0]["status"], body["grants"][0]["remaining"]) == ("pending", "100")


def test_the_burn_of_the_last_day_and_week_comes_from_the_ledger(client: Client) -> None:
    grant(client, "100", "g1", effectiveAt="2025-01-01T00:00:00Z")
    track(
        client,
        [
            event("2000", "e1", ts="2025-01-10T00:00:00Z"),
            event("1000", "e2", ts="2025-01-16T10:00:00Z"),
        ],
    )
    balance = credits(client)["balances"][0]
    # a day ago: 2000 tokens, $2; a week ago: none yet, the $1 minimum; now 3000 tokens, $4
    assert (balance["burnedLastDay"], balance["burnedLastWeek"]) == ("2", "3")


def test_the_run_out_projects_the_weekly_rate(client: Client) -> None:
    grant(client, "10", "g1", effectiveAt="2025-01-01T00:00:00Z")
    track(client, [event("140", "e1", metric="images", ts="2025-01-16T10:00:00Z")])  # $7
    balance = credits(client)["balances"][0]
    assert (balance["balance"], balance["dailyBurnRate"], balance["projectedRunOut"]) == (
        "3",
        "1",
        "2025-01-19T14:30:00.000000Z",
    )


def test_a_zero_balance_stops_an_entitlement_that_asks_for_it(client: Client) -> None:
    client.put("/v1/features/tokens", {"type": "metered", "metric": "tokens"})
    client.put(
        "/v1/customers/cus_1/entitlements/tokens", {"limit": "1000000", "stopAtZeroCredit": True}
    )
    grant(client, "4", "g1")
    track(client, [event("3000", "e1")])
    body = client.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert (body["hasAccess"], body["reason"]) == (False, "no_credit")


def test_credit_left_keeps_an_entitlement_open(client: Client) -> None:
    client.put("/v1/features/tokens", {"type": "metered", "metric": "tokens"})
    client.put(
        "/v1/customers/cus_1/entitlements/tokens", {"limit": "1000000", "stopAtZeroCredit": True}
    )
    grant(client, "5", "g1")
    track(client, [event("3000", "e1")])
    assert client.get("/v1/customers/cus_1/entitlements/tokens").json()["hasAccess"] is True


def test_every_credit_write_leaves_an_audit_entry(client: Client) -> None:
    first = grant(client, "100", "g1").json()
    client.post(f"/v1/customers/cus_1/credit-grants/{first['id']}/void", None)
    actions = {e["action"] for e in client.get("/v1/audit").json()["data"]}
    assert {"credit_grant.create", "credit_grant.void"} <= actions
