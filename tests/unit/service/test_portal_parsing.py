"""The portal's bounded parsers: a theme value can never end its CSS declaration, rule or
<style> element; a token string that is not ``smp_ptk_<id>.<secret>`` is a 401 before any
read; minting bounds are those of the contract."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.api.schemas.portal import parse_settings
from stripemeter_server.api.schemas.portal import parse_token_request as parse_request
from stripemeter_server.domain.errors import UnauthorizedError, ValidationError
from stripemeter_server.service.portal.tokens import MAX_EXPIRES_IN


@given(st.text(max_size=80))
def test_an_accepted_css_value_holds_no_breaking_character(value: str) -> None:
    try:
        found = parse_settings({"theme": {"cssVariables": {"--portal-accent": value}}})
    except ValidationError:
        return
    assert not set(found.css_variables["--portal-accent"]) & set(";{}<>/\\\n")


@given(st.text(max_size=100))
def test_any_origin_accepted_has_no_path(value: str) -> None:
    try:
        found = parse_settings({"allowedOrigins": [value]})
    except ValidationError:
        return
    assert found.allowed_origins[0].count("/") == 2


@given(st.integers())
def test_expires_in_is_accepted_only_up_to_a_day(seconds: int) -> None:
    try:
        parsed = parse_request({"customerRef": "cus_1", "expiresIn": seconds})
    except ValidationError as error:
        assert error.field == "expiresIn" and not 60 <= seconds <= MAX_EXPIRES_IN
    else:
        assert parsed.expires_in == seconds


def test_every_token_has_usage_read() -> None:
    assert parse_request({"customerRef": "c", "scopes": ["alerts:write"]}).scopes == {
        "usage:read",
        "alerts:write",
    }


@pytest.mark.parametrize(
    "token", ["", "smk_abc", "smp_", "smp_ptk_x", "smp_abc.def", "smp_ptk_" + "a" * 200 + ".s"]
)
def test_a_malformed_token_is_refused_before_any_read(token: str) -> None:
    from stripemeter_server.service.portal.tokens import _split

    with pytest.raises(UnauthorizedError):
        _split(token)
