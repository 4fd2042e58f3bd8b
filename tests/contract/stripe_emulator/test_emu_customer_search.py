"""Customer search (`GET /v1/customers/search`) with Stripe's search query language."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

REF = "stripemeter_customer_ref"


@pytest.fixture
def customers(client: stripe.StripeClient) -> list[Any]:
    return [
        client.v1.customers.create(
            params={
                "name": name,
                "email": f"{name}@example.com",
                "metadata": {REF: ref, "tier": tier},
            }
        )
        for name, ref, tier in (("ann", "r1", "gold"), ("bob", "r2", "gold"), ("cid", "r3", "free"))
    ]


def search(client: stripe.StripeClient, query: str, **extra: Any) -> Any:
    return client.v1.customers.search(params={"query": query, **extra})


def test_metadata_query_finds_the_customer(
    client: stripe.StripeClient, customers: list[Any]
) -> None:
    found = search(client, f"metadata['{REF}']:'r2'")
    assert [c.id for c in found.data] == [customers[1].id]


def test_email_query_finds_the_customer(client: stripe.StripeClient, customers: list[Any]) -> None:
    assert [c.name for c in search(client, "email:'cid@example.com'").data] == ["cid"]


def test_and_requires_every_clause(client: stripe.StripeClient, customers: list[Any]) -> None:
    found = search(client, "metadata['tier']:'gold' AND email:\"ann@example.com\"")
    assert [c.name for c in found.data] == ["ann"]


def test_or_takes_any_clause(client: stripe.StripeClient, customers: list[Any]) -> None:
    found = search(client, "email:'ann@example.com' OR email:'cid@example.com'")
    assert [c.name for c in found.data] == ["cid", "ann"]


def test_negated_clause_excludes(client: stripe.StripeClient, customers: list[Any]) -> None:
    assert [c.name for c in search(client, "-metadata['tier']:'gold'").data] == ["cid"]


def test_no_match_is_an_empty_result(client: stripe.StripeClient, customers: list[Any]) -> None:
    assert search(client, f"metadata['{REF}']:'nope'").data == []


def test_result_uses_the_search_result_envelope(
    client: stripe.StripeClient, customers: list[Any]
) -> None:
    result = search(client, "metadata['tier']:'gold'", limit=1)
    assert (result.object, result.url, result.has_more, bool(result.next_page)) == (
        "search_result",
        "/v1/customers/search",
        True,
        True,
    )


def test_auto_paging_walks_every_page(client: stripe.StripeClient, customers: list[Any]) -> None:
    pages = search(client, "email~'example.com'", limit=1)
    assert [c.name for c in pages.auto_paging_iter()] == ["cid", "bob", "ann"]


def test_unsupported_field_is_a_400(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        search(client, "currency:'usd'")
    assert (info.value.http_status, info.value.param) == (400, "query")


def test_mixing_and_with_or_is_a_400(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        search(client, "name:'a' AND name:'b' OR name:'c'")


def test_unquoted_string_value_is_a_400(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        search(client, "email:ann@example.com")
