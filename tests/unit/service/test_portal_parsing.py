"""The portal's bounded parsers: a theme value can never end its CSS declaration, rule or
<style> element; a token string that is not ``smp_ptk_<id>.<secret>`` is a 401 before any
read; minting bounds are those of the contract."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.api.schemas.portal import parse_alert_rule, parse_settings
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


def test_a_portal_rule_carries_its_refusals_for_the_use_case_to_raise_in_order() -> None:
    unknown = parse_alert_rule({"metric": "calls", "threshold": "5", "type": "spend"}, "cus_1")
    assert unknown.body_refusal is not None and unknown.body_refusal.field == "type"
    missing = parse_alert_rule({"threshold": "5"}, "cus_1")
    assert missing.body_refusal is not None and missing.body_refusal.field == "metric"
    bad = parse_alert_rule({"metric": "calls", "threshold": "many"}, "cus_1")
    assert (bad.metric, bad.rule, bad.body_refusal) == ("calls", None, None)
    assert bad.rule_refusal is not None and bad.rule_refusal.field == "threshold"


def test_a_portal_rule_is_a_quantity_rule_pinned_to_the_tokens_customer() -> None:
    parsed = parse_alert_rule({"metric": "calls", "threshold": "80", "percentOf": "100"}, "cus_1")
    assert parsed.rule is not None and parsed.rule_refusal is None
    assert (parsed.rule.rule.kind.value, parsed.rule.rule.customer_ref) == ("quantity", "cus_1")
    assert parsed.rule.rule.metric == "calls"
