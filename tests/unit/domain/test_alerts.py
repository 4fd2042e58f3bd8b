"""Alert rule parsing and the webhook signature scheme (pure, no storage)."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

import pytest

from stripemeter_server.domain.alerts import (
    AlertKind,
    rule_from_dict,
    rule_to_dict,
    signature,
    signature_header,
    verify_signature,
)
from stripemeter_server.domain.errors import ValidationError

BODY = b'{"id":"alev_1"}'


def test_a_rule_round_trips_through_its_json_shape() -> None:
    raw = {
        "type": "spend",
        "metric": None,
        "customerRef": "cus_1",
        "threshold": "50",
        "percentOf": None,
        "currency": "usd",
        "recurrence": "once",
        "webhookUrl": "https://example.com/h",
        "name": "n",
        "enabled": True,
        "feature": None,
    }
    assert rule_to_dict(rule_from_dict(raw)) == raw


def test_a_percent_threshold_is_that_share_of_the_limit() -> None:
    rule = rule_from_dict({"metric": "m", "threshold": "80", "percentOf": "2500"})
    assert rule.trigger_value == Decimal(2000)


def test_the_default_kind_is_quantity() -> None:
    assert rule_from_dict({"metric": "m", "threshold": "1"}).kind is AlertKind.QUANTITY


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"metric": "m", "threshold": "0"}, "threshold"),
        ({"metric": "m", "threshold": 1.5}, "threshold"),
        ({"metric": "m", "threshold": "1", "webhookUrl": "ftp://x"}, "webhookUrl"),
        ({"metric": "m", "threshold": "1", "currency": "usd"}, "currency"),
        ({"metric": "m", "threshold": "1", "recurrence": "daily"}, "recurrence"),
        ({"metric": "m", "threshold": "1", "colour": "red"}, "colour"),
    ],
)
def test_invalid_rules_name_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        rule_from_dict(raw)
    assert caught.value.field == field


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s", b"100." + BODY, hashlib.sha256).hexdigest()
    assert signature("s", 100, BODY) == expected


def test_a_signed_body_verifies() -> None:
    assert verify_signature("s", signature_header("s", 100, BODY), BODY, now=130)


def test_a_changed_body_does_not_verify() -> None:
    assert not verify_signature("s", signature_header("s", 100, BODY), BODY + b" ", now=100)


def test_an_old_timestamp_does_not_verify() -> None:
    assert not verify_signature("s", signature_header("s", 100, BODY), BODY, now=1000)
