"""Errors as Stripe gives them, one row per case, sent through the official library: the
status, the `code`, the `param` and, where Stripe documents the code, a `doc_url` on a real
Stripe page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import stripe

from stripe_emulator.doc_urls import ERROR_CODES_PAGE, USAGE_RECORDING_PAGE
from stripe_emulator.engine import mask_key
from tests.contract.stripe_emulator.stripe_emulator_support import T0, make_meter, send_event

Call = Callable[[stripe.StripeClient, Any], Any]


@dataclass(frozen=True)
class Case:
    name: str
    call: Call
    status: int
    code: str | None
    param: str | None


def _price(client: stripe.StripeClient, **extra: Any) -> Any:
    return client.v1.prices.create(
        params={"currency": "usd", "product_data": {"name": "P"}, **extra}
    )


CASES = [
    Case(
        "list limit not an integer",
        lambda c, _: c.v1.customers.list(params={"limit": "abc"}),  # type: ignore[arg-type]
        400,
        "parameter_invalid_integer",
        "limit",
    ),
    Case("list limit 0", lambda c, _: c.v1.customers.list(params={"limit": 0}), 400, None, "limit"),
    Case(
        "list limit 1000",
        lambda c, _: c.v1.invoices.list(params={"limit": 1000}),
        400,
        None,
        "limit",
    ),
    Case(
        "subscription without items",
        lambda c, cus: c.v1.subscriptions.create(params={"customer": cus.id}),
        400,
        "parameter_missing",
        "items",
    ),
    Case(
        "invoice for a missing customer",
        lambda c, _: c.v1.invoices.create(params={"customer": "cus_missing"}),
        400,
        "resource_missing",
        "customer",
    ),
    Case(
        "invoice item for a missing customer",
        lambda c, _: c.v1.invoice_items.create(
            params={"customer": "cus_missing", "amount": 100, "currency": "usd"}
        ),
        400,
        "resource_missing",
        "customer",
    ),
    Case(
        "price with a non-integer unit_amount",
        lambda c, _: _price(c, unit_amount="abc"),
        400,
        "parameter_invalid_integer",
        "unit_amount",
    ),
    Case(
        "price without an amount", lambda c, _: _price(c), 400, "parameter_missing", "unit_amount"
    ),
    Case(
        "retrieve a missing customer",
        lambda c, _: c.v1.customers.retrieve("cus_missing"),
        404,
        "resource_missing",
        "id",
    ),
    Case(
        "an unknown parameter",
        lambda c, _: c.v1.customers.create(params={"nmae": "x"}),  # type: ignore[arg-type]
        400,
        "parameter_unknown",
        "nmae",
    ),
    Case(
        "meter event older than 35 days",
        lambda c, cus: send_event(c, cus.id, "1", timestamp=T0 - 36 * 86400),
        400,
        "timestamp_too_far_in_past",
        "timestamp",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_errors_carry_stripes_status_code_and_param(
    client: stripe.StripeClient, customer: Any, case: Case
) -> None:
    make_meter(client)
    with pytest.raises(stripe.StripeError) as info:
        case.call(client, customer)
    error = info.value.error
    assert (
        info.value.http_status,
        error.code if error else None,
        error.param if error else None,
    ) == (case.status, case.code, case.param)


def _doc_url(client: stripe.StripeClient, case: Case, customer: Any) -> str | None:
    with pytest.raises(stripe.StripeError) as info:
        case.call(client, customer)
    assert info.value.error is not None
    return info.value.error.doc_url


def test_a_general_code_links_to_its_anchor_on_stripes_error_codes_page(
    client: stripe.StripeClient, customer: Any
) -> None:
    case = next(c for c in CASES if c.code == "resource_missing")
    assert _doc_url(client, case, customer) == f"{ERROR_CODES_PAGE}#resource-missing"


def test_a_meter_code_links_to_stripes_usage_recording_guide(
    client: stripe.StripeClient, customer: Any
) -> None:
    make_meter(client)
    case = next(c for c in CASES if c.code == "timestamp_too_far_in_past")
    assert _doc_url(client, case, customer) == USAGE_RECORDING_PAGE


def test_an_error_without_a_code_has_no_doc_url(client: stripe.StripeClient, customer: Any) -> None:
    case = next(c for c in CASES if c.name == "list limit 0")
    assert _doc_url(client, case, customer) is None


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("sk_test_abcdefghijklmnop1234", "sk_test_" + "*" * 16 + "1234"),
        ("sk_live_12345678", "sk_live_****5678"),
        ("sk_test_abc", "sk_test_***"),
        ("abc", "***"),
        ("wrongkey9876", "********9876"),
    ],
)
def test_invalid_keys_are_masked_like_stripe_without_garbling(key: str, shown: str) -> None:
    assert mask_key(key) == shown


def test_an_invalid_key_is_refused_with_the_masked_key(server: Any) -> None:
    server.emulator.config.api_keys = ("sk_test_the_right_one",)
    try:
        with pytest.raises(stripe.AuthenticationError) as info:
            server.stripe_client("sk_test_wrong_key_5678").v1.customers.list()
    finally:
        server.emulator.config.api_keys = None
    assert "sk_test_**********5678" in str(info.value)


def test_identifiers_are_unique_per_meter_not_across_meters(
    client: stripe.StripeClient, customer: Any
) -> None:
    make_meter(client, "api_calls")
    make_meter(client, "storage")
    send_event(client, customer.id, "1", identifier="same")
    other = send_event(client, customer.id, "2", identifier="same", event_name="storage")
    assert other.identifier == "same"


def test_an_identifier_is_still_refused_twice_on_the_same_meter(
    client: stripe.StripeClient, customer: Any
) -> None:
    make_meter(client)
    send_event(client, customer.id, "1", identifier="same")
    with pytest.raises(stripe.InvalidRequestError) as info:
        send_event(client, customer.id, "1", identifier="same")
    assert info.value.code == "duplicate_meter_event"


def test_clock_reset_undoes_every_advance(server: Any) -> None:
    started = server.control("GET", "/clock")["now"]
    server.control("POST", "/clock/advance", {"seconds": 40 * 86400})
    assert server.control("POST", "/clock/reset")["now"] == started


def test_reset_empties_the_account_and_puts_the_clock_back(
    server: Any, client: stripe.StripeClient
) -> None:
    started = server.control("GET", "/clock")["now"]
    client.v1.customers.create(params={"name": "Gone"})
    server.control("POST", "/clock/advance", {"seconds": 3600})
    server.control("POST", "/reset")
    assert (client.v1.customers.list().data, server.control("GET", "/clock")["now"]) == (
        [],
        started,
    )
