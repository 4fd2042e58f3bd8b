"""The pinned transport (issue 18, findings 3-4): the destination is resolved once, every
address checked, and the connection made to the checked address — a second resolution
cannot redirect it (DNS rebinding)."""

from __future__ import annotations

import httpx
import pytest

from stripemeter_server.domain.destinations import HostAllowList, parse_destination
from stripemeter_server.outbound.pinned import (
    BlockedDestination,
    PublicAddressGuard,
    StripeHostGuard,
    failure_category,
    pinned_client,
)
from tests.support.receiver import webhook_receiver


class Resolver:
    """A scripted DNS: each call answers the next list (the last repeats)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers, self.calls = list(answers), 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


def test_a_listed_name_resolving_to_a_private_address_is_blocked() -> None:
    guard = StripeHostGuard(HostAllowList.parse("api.stripe.com"), Resolver(["10.0.0.5"]))
    with pytest.raises(BlockedDestination):
        guard(parse_destination("https://api.stripe.com/v1", "u"))


def test_a_name_with_one_private_address_among_public_ones_is_blocked() -> None:
    guard = PublicAddressGuard(resolver=Resolver(["93.184.216.34", "127.0.0.1"]))
    with pytest.raises(BlockedDestination):
        guard(parse_destination("https://hooks.example.com/", "u"))


def test_an_unlisted_host_is_blocked_before_any_resolution() -> None:
    resolver = Resolver(["93.184.216.34"])
    with pytest.raises(BlockedDestination):
        StripeHostGuard(HostAllowList.parse("api.stripe.com"), resolver)(
            parse_destination("https://evil.example.com/", "u")
        )
    assert resolver.calls == 0


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """The name resolves once (to the local receiver); a second answer (the rebinding)
    would point elsewhere, but the request reaches the checked address with its Host."""
    with webhook_receiver([200]) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        resolver = Resolver(["127.0.0.1"], ["10.9.9.9"])
        client = pinned_client(PublicAddressGuard(allow_private=True, resolver=resolver), timeout=5)
        with client:
            response = client.post(f"http://rebind.example:{port}/hook", content=b"x")
    assert (response.status_code, resolver.calls, receiver.requests[0].headers["Host"]) == (
        200,
        1,
        f"rebind.example:{port}",
    )


def test_a_blocked_request_never_connects_and_is_categorised_blocked() -> None:
    with (
        webhook_receiver([200]) as receiver,
        pinned_client(PublicAddressGuard(), timeout=5) as client,
        pytest.raises(httpx.HTTPError) as failed,
    ):
        client.post(receiver.url, content=b"x")
    assert (failure_category(failed.value), receiver.requests) == ("blocked", [])


def test_a_closed_port_is_categorised_refused_not_described() -> None:
    with webhook_receiver([200]) as receiver:
        url = receiver.url
    with (
        pinned_client(PublicAddressGuard(allow_private=True), timeout=5) as client,
        pytest.raises(httpx.HTTPError) as failed,
    ):
        client.post(url, content=b"x")
    assert failure_category(failed.value) == "refused"
