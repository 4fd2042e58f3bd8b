"""Quantity formatting, key derivation and payload fingerprints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.idempotency import (
    derive_idempotency_key,
    format_quantity,
    payload_fingerprint,
)

TS = datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


def _key(**over: object) -> str:
    args: dict[str, object] = {
        "tenant_id": "acme",
        "metric": "api_calls",
        "customer_ref": "cus_1",
        "resource_id": None,
        "ts": TS,
        "quantity": Decimal("1"),
        "meta": None,
    }
    args.update(over)
    return derive_idempotency_key(**args)  # type: ignore[arg-type]


def _fingerprint(**over: object) -> str:
    args: dict[str, object] = {
        "metric": "api_calls",
        "customer_ref": "cus_1",
        "resource_id": None,
        "ts": TS,
        "quantity": Decimal("1"),
        "meta": None,
    }
    args.update(over)
    return payload_fingerprint(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.50", "1.5"),
        ("1E+2", "100"),
        ("0E-12", "0"),
        ("-0", "0"),
        ("-0.000", "0"),
        ("100", "100"),
        ("100.000", "100"),
        ("0.000000000001", "0.000000000001"),
        ("1.23E-5", "0.0000123"),
        ("-2.50", "-2.5"),
        ("12345678901234567890", "12345678901234567890"),
        ("1234567890123456789012345678901234", "1234567890123456789012345678901234"),
    ],
)
def test_format_quantity(value: str, expected: str) -> None:
    assert format_quantity(Decimal(value)) == expected


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_format_quantity_rejects_non_finite(value: str) -> None:
    with pytest.raises(ValueError):
        format_quantity(Decimal(value))


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_format_quantity_preserves_value(q: Decimal) -> None:
    assert Decimal(format_quantity(q)) == q


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_format_quantity_has_no_exponent_or_trailing_zero(q: Decimal) -> None:
    text = format_quantity(q)
    assert "E" not in text and not ("." in text and text.endswith(("0", ".")))


def test_key_has_prefix_and_32_hex_digits() -> None:
    key = _key()
    assert key.startswith("evt_") and len(key) == 36 and int(key[4:], 16) >= 0


def test_key_differs_per_tenant() -> None:
    assert _key(tenant_id="a") != _key(tenant_id="b")


def test_key_ignores_ts_offset() -> None:
    shifted = TS.astimezone(timezone(timedelta(hours=-8)))
    assert _key(ts=shifted) == _key()


def test_key_treats_empty_meta_as_absent() -> None:
    assert _key(meta={}) == _key(meta=None)


def test_key_treats_empty_resource_as_absent() -> None:
    assert _key(resource_id="") == _key(resource_id=None)


def test_key_depends_on_meta() -> None:
    assert _key(meta={"a": 1}) != _key(meta={"a": 2})


def test_key_rejects_naive_ts() -> None:
    with pytest.raises(ValueError):
        _key(ts=datetime(2025, 1, 16))


def test_fingerprint_is_32_hex_digits() -> None:
    assert len(_fingerprint()) == 32


def test_fingerprint_same_for_equal_payloads() -> None:
    assert _fingerprint(quantity=Decimal("1.50")) == _fingerprint(quantity=Decimal("1.5"))


def test_fingerprint_differs_for_other_quantity() -> None:
    assert _fingerprint(quantity=Decimal("2")) != _fingerprint()


def test_fingerprint_distinguishes_missing_ts() -> None:
    assert _fingerprint(ts=None) != _fingerprint()


def test_fingerprint_differs_for_other_meta() -> None:
    assert _fingerprint(meta={"region": "eu"}) != _fingerprint(meta={"region": "us"})


@given(
    st.text(max_size=12),
    st.text(max_size=12),
    st.none() | st.text(max_size=12),
    st.none() | st.datetimes(timezones=st.just(UTC)),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
)
def test_fingerprint_of_plain_identifiers_is_the_generic_digest(
    metric: str, customer: str, resource: str | None, ts: datetime | None, quantity: Decimal
) -> None:
    """The direct JSON text for events without meta hashes the bytes the encoder writes."""
    from stripemeter_server.domain.idempotency import _digest
    from stripemeter_server.domain.timestamps import format_timestamp

    expected = _digest(
        [
            metric,
            customer,
            resource or "",
            None if ts is None else format_timestamp(ts),
            format_quantity(quantity),
            None,
        ]
    )
    assert (
        _fingerprint(
            metric=metric, customer_ref=customer, resource_id=resource, ts=ts, quantity=quantity
        )
        == expected
    )
