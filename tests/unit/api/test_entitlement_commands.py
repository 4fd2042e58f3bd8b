"""The entitlement parse functions keep each refusal's field and which refusal wins, and
hold back the refusals that must come after a store lookup (ADR 0030)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from stripemeter_server.api.schemas.entitlement_commands import (
    check_request,
    commit_request,
    extra_grant_request,
    new_grant,
    reserve_request,
)
from stripemeter_server.domain.entitlements import FeatureKind
from stripemeter_server.domain.errors import ValidationError


def _refusal(parse: Callable[[Any], object], body: dict[str, Any]) -> tuple[str, str | None, str]:
    with pytest.raises(ValidationError) as refused:
        parse(body)
    return refused.value.code, refused.value.field, refused.value.message


def test_a_check_defaults_to_one_and_refuses_the_first_bad_field() -> None:
    asked = check_request({"customerRef": "cus_a", "feature": "seats"})
    assert (asked.customer_ref, asked.feature, asked.quantity) == ("cus_a", "seats", Decimal(1))
    code, field, _ = _refusal(check_request, {"feature": "", "quantity": "-1"})
    assert (code, field) == ("invalid_entitlement", "customerRef")
    code, field, message = _refusal(
        check_request, {"customerRef": "c", "feature": "f", "quantity": "-1"}
    )
    assert (field, message) == ("quantity", "quantity must not be negative")


def test_a_reservation_checks_quantity_before_ttl_before_key() -> None:
    body = {"customerRef": "c", "feature": "f", "quantity": "0", "ttlSeconds": 0}
    assert _refusal(reserve_request, body)[1:] == ("quantity", "quantity must be positive")
    body["quantity"] = "2"
    assert _refusal(reserve_request, body)[1] == "ttlSeconds"
    del body["ttlSeconds"]
    assert _refusal(reserve_request, body)[1] == "idempotencyKey"
    body["idempotencyKey"] = "k1"
    asked = reserve_request(body)
    assert (asked.quantity, asked.ttl_seconds, asked.idempotency_key) == (Decimal(2), 60, "k1")


def test_a_commit_refuses_an_unknown_key_now_and_a_bad_quantity_later() -> None:
    assert _refusal(commit_request, {"amount": "1"})[1] == "amount"
    assert commit_request({}).quantity is None
    held = commit_request({"quantity": "-3"}).quantity
    assert held is not None
    with pytest.raises(ValidationError) as refused:
        held.get()
    assert refused.value.field == "quantity"


def test_an_extra_grant_must_be_positive() -> None:
    assert _refusal(extra_grant_request, {"amount": "0"})[2] == "amount must be positive"
    asked = extra_grant_request({"amount": "5", "note": "pack"})
    assert (asked.amount, asked.idempotency_key, asked.note) == (Decimal(5), None, "pack")


def test_a_grant_is_parsed_for_each_kind_and_refused_only_for_the_stored_one() -> None:
    asked = new_grant("cus_a", "seats", {"limit": "10"})
    grant = asked.for_kind(FeatureKind.METERED)
    assert (grant.customer_ref, grant.feature, grant.limit) == ("cus_a", "seats", Decimal(10))
    with pytest.raises(ValidationError) as refused:
        asked.for_kind(FeatureKind.BOOLEAN)
    assert refused.value.message == "limit is for metered features"
    bad_ref = new_grant("", "seats", {})
    with pytest.raises(ValidationError) as refused:
        bad_ref.for_kind(FeatureKind.BOOLEAN)
    assert refused.value.field == "customerRef"
