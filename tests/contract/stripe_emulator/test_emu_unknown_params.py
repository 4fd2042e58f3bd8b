"""Unknown parameters are refused on every route, as Stripe refuses them (400
`parameter_unknown`), while everything the library sends on its own is accepted."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator.params import NOT_MODELLED_CODE

LEGACY = "2024-06-20"


def refused(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as info:
        call()
    assert info.value.http_status == 400
    assert info.value.code == "parameter_unknown"
    return info.value


def test_unknown_top_level_parameter_is_refused(client: stripe.StripeClient) -> None:
    err = refused(lambda: client.v1.customers.create(params={"name": "A", "foo": "1"}))
    assert (err.param, err.user_message) == ("foo", "Received unknown parameter: foo")


def test_unknown_nested_parameter_is_refused(client: stripe.StripeClient) -> None:
    err = refused(
        lambda: client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 5,
                "product_data": {"name": "P"},
                "recurring": {"interval": "month", "foo": "x"},
            }
        )
    )
    assert err.param == "recurring[foo]"


def test_unknown_parameter_inside_an_array_element_is_refused(
    client: stripe.StripeClient, customer: Any
) -> None:
    err = refused(
        lambda: client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": "price_x", "foo": "1"}]}
        )
    )
    assert err.param == "items[0][foo]"


def test_several_unknown_parameters_are_all_named(client: stripe.StripeClient) -> None:
    err = refused(lambda: client.v1.customers.create(params={"foo": "1", "bar": "2"}))
    assert err.user_message == "Received unknown parameters: foo, bar"


def test_unknown_query_parameter_is_refused(client: stripe.StripeClient) -> None:
    err = refused(lambda: client.v1.customers.list(params={"foo": "1"}))  # type: ignore[arg-type]
    assert err.param == "foo"


def test_unknown_parameter_on_a_delete_is_refused(
    client: stripe.StripeClient, customer: Any
) -> None:
    draft = client.v1.invoices.create(params={"customer": customer.id})
    err = refused(lambda: client.raw_request("delete", f"/v1/invoices/{draft.id}", foo="1"))
    assert err.param == "foo"


def test_unknown_v2_json_parameter_is_refused(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    err = refused(
        lambda: client.v2.billing.meter_events.create(
            params={  # type: ignore[typeddict-unknown-key]
                "event_name": "api_calls",
                "payload": {"stripe_customer_id": customer.id, "value": "1"},
                "foo": "1",
            }
        )
    )
    assert err.param == "foo"


def test_metadata_takes_any_keys(client: stripe.StripeClient) -> None:
    created = client.v1.customers.create(params={"metadata": {"anything_at_all": "1"}})
    assert created.metadata["anything_at_all"] == "1"


def test_meter_event_payload_takes_any_keys(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    event = client.v1.billing.meter_events.create(
        params={
            "event_name": "api_calls",
            "payload": {"stripe_customer_id": customer.id, "value": "1", "region": "eu"},
        }
    )
    assert event.payload["region"] == "eu"


def test_auto_pagination_sends_only_declared_parameters(client: stripe.StripeClient) -> None:
    for name in ("a", "b", "c"):
        client.v1.customers.create(params={"name": name})
    pages = client.v1.customers.list(params={"limit": 1})
    assert [c.name for c in pages.auto_paging_iter()] == ["c", "b", "a"]


def test_ending_before_is_accepted(client: stripe.StripeClient) -> None:
    first = client.v1.customers.create(params={"name": "a"})
    client.v1.customers.create(params={"name": "b"})
    page = client.v1.customers.list(params={"ending_before": first.id})
    assert [c.name for c in page.data] == ["b"]


def test_expand_is_accepted_and_ignored(client: stripe.StripeClient, customer: Any) -> None:
    fetched = client.v1.customers.retrieve(customer.id, params={"expand": ["test_clock"]})
    assert fetched.id == customer.id


def test_real_but_unmodelled_parameter_is_refused_as_not_modelled(
    client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.create(
            params={"tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}]}
        )
    assert (info.value.code, info.value.param) == (NOT_MODELLED_CODE, "tax_id_data")


def test_parameter_removed_in_basil_is_refused_on_the_current_version(
    client: stripe.StripeClient, customer: Any
) -> None:
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 5, "product_data": {"name": "P"}}
    )
    err = refused(
        lambda: client.v1.invoice_items.create(
            params={  # type: ignore[arg-type]
                "customer": customer.id,
                "price": price.id,
            }
        )
    )
    assert err.param == "price"


def test_parameter_removed_in_basil_is_accepted_on_an_older_version(
    client: stripe.StripeClient, customer: Any
) -> None:
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 5, "product_data": {"name": "P"}}
    )
    item = client.v1.invoice_items.create(
        params={  # type: ignore[arg-type]
            "customer": customer.id,
            "price": price.id,
        },
        options={"stripe_version": LEGACY},
    )
    assert item.amount == 5


def test_refused_request_is_not_saved_under_its_idempotency_key(
    client: stripe.StripeClient,
) -> None:
    refused(
        lambda: client.v1.customers.create(params={"foo": "1"}, options={"idempotency_key": "k"})
    )
    assert client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
