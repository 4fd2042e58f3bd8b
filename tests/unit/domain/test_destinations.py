"""Outbound destinations (issue 18, finding 3): every other spelling of an IP address and
any userinfo is refused; the allow-list matches host and port exactly."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.destinations import (
    HostAllowList,
    blocked_reason,
    parse_destination,
)
from stripemeter_server.domain.errors import ValidationError

DEFAULT = HostAllowList.parse("api.stripe.com,files.stripe.com,meter-events.stripe.com")


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.0.1/",
    ],
)
def test_other_spellings_of_an_address_are_refused(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_destination(url, "apiBase")
    assert refused.value.field == "apiBase"


@pytest.mark.parametrize(
    "url",
    [
        "http://user@api.stripe.com/",
        "https://u:p@api.stripe.com",
        "ftp://api.stripe.com",
        "http://",
        "http://[::1",
        "http://exa mple.com",
        "https://api.stripe.com:99999",
    ],
)
def test_userinfo_other_schemes_and_broken_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        parse_destination(url, "webhookUrl")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_an_address_parses_only_in_its_canonical_form(number: int) -> None:
    address = ipaddress.IPv4Address(number)
    assert parse_destination(f"http://{address}/", "u").address == address
    with pytest.raises(ValidationError):
        parse_destination(f"http://{number}/", "u")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest",
        "http://10.0.0.5:8080",
        "http://localhost:6379",
        "http://[::1]:5432",
        "https://api.stripe.com:8443",
        "http://api.stripe.com.evil.test",
    ],
)
def test_the_default_allow_list_refuses_internal_hosts_and_other_ports(url: str) -> None:
    assert not DEFAULT.allows(parse_destination(url, "apiBase"))


def test_the_default_allow_list_takes_stripes_hosts_on_the_default_port() -> None:
    assert DEFAULT.allows(parse_destination("https://API.stripe.com/", "apiBase"))


def test_a_host_port_entry_allows_that_port_only() -> None:
    listed = HostAllowList.parse("127.0.0.1:12111")
    assert (
        listed.allows(parse_destination("http://127.0.0.1:12111", "a")),
        listed.allows(parse_destination("http://127.0.0.1:12112", "a")),
    ) == (True, False)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::",
        "::ffff:127.0.0.1",
        "ff02::1",
    ],
)
def test_non_public_addresses_are_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111"])
def test_public_addresses_are_not_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_ipv6_entries_parse_and_are_described_with_brackets() -> None:
    listed = HostAllowList.parse("[::1]:12111,api.stripe.com")
    assert (listed.allows(parse_destination("http://[::1]:12111/", "a")), listed.describe()) == (
        True,
        "[::1]:12111, api.stripe.com",
    )


def test_an_invalid_allow_list_entry_is_refused() -> None:
    with pytest.raises(ValidationError):
        HostAllowList.parse("api.stripe.com:http")
