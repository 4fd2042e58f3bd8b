"""The bounded parsers: for any input, a value within bounds or the parser's own error —
never another exception, never a value a store or the arithmetic cannot take."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.bounded import (
    MAX_INSTANT,
    MAX_SEQUENCE,
    MIN_INSTANT,
    check_decimal_range,
    check_string,
    decimal_value,
    find_unsafe,
    is_sequence,
    parse_decimal_field,
    parse_instant,
    parse_sequence,
    unsafe_reason,
)
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.periods import PeriodSpec, PeriodType, periods_overlapping

decimal_texts = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"[+-]?[0-9]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,6})?", fullmatch=True),
    st.sampled_from(["1e80", "1e400", "-1e-400", "NaN", "sNaN", "Infinity", "1_000", "¹", "٣"]),
)
any_number = st.one_of(
    decimal_texts,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(any_number)
def test_decimal_is_in_range_or_a_value_error(raw: object) -> None:
    try:
        value = decimal_value(raw)
    except ValueError:
        return
    assert value.is_finite()
    check_decimal_range(value)
    assert Decimal(to_plain_string(value)) == value  # formats without overflow


@given(any_number)
def test_decimal_field_errors_name_the_field(raw: object) -> None:
    try:
        parse_decimal_field(raw, "delta")
    except ValidationError as exc:
        assert exc.field == "delta"


@pytest.mark.parametrize("raw", ["1e80", 10**80, Decimal("1e400"), "1e400", "1e-13", 1e100])
def test_the_issue_s_decimals_are_refused(raw: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_decimal_field(raw, "quantity", code="invalid_quantity")
    assert (info.value.code, info.value.field) == ("invalid_quantity", "quantity")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("99999999999999999999", "99999999999999999999"),
        ("0.000000000001", "0.000000000001"),
        ("1E+2", "100"),
        ("-0", "0"),
        ("1.50", "1.5"),
        ("0e999999", "0"),
    ],
)
def test_the_edges_of_the_range_are_accepted(raw: str, expected: str) -> None:
    assert to_plain_string(decimal_value(raw)) == expected


@given(
    st.one_of(
        st.text(max_size=80),
        st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    )
)
def test_instant_is_in_bounds_or_a_validation_error(raw: str) -> None:
    try:
        instant = parse_instant(raw, "from")
    except ValidationError as exc:
        assert (exc.field, exc.code) == ("from", "invalid_timestamp")
        return
    assert MIN_INSTANT <= instant < MAX_INSTANT


@pytest.mark.parametrize(
    "raw",
    [
        "9999-12-31T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9000-01-01T00:00:00Z",
        "0999-12-31T23:59:59Z",
    ],
)
def test_instants_outside_the_supported_range_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse_instant(raw, "periodStart")


def test_the_bounds_themselves() -> None:
    assert parse_instant("1000-01-01T00:00:00Z", "x") == MIN_INSTANT
    assert parse_instant("8999-12-31T23:59:59.999999Z", "x") < MAX_INSTANT


@given(st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.none()))
def test_sequence_fits_64_bits_or_a_validation_error(raw: object) -> None:
    try:
        value = parse_sequence(raw, "cursor")
    except ValidationError as exc:
        assert exc.field == "cursor"
        return
    assert 0 <= value <= MAX_SEQUENCE


@pytest.mark.parametrize("raw", ["9" * 30, "¹", "٣", "-1", "", " 1", "1 ", str(MAX_SEQUENCE + 1)])
def test_the_issue_s_sequences_are_refused(raw: str) -> None:
    assert not is_sequence(raw)
    with pytest.raises(ValidationError):
        parse_sequence(raw, "after")


@given(st.text(max_size=300))
def test_checked_strings_are_storable_everywhere(raw: str) -> None:
    try:
        value = check_string(raw, "customerRef")
    except ValidationError as exc:
        assert exc.field == "customerRef"
        return
    assert "\x00" not in value and len(value) <= 255
    value.encode("utf-8")  # no unpaired surrogate


@pytest.mark.parametrize("raw", ["a\x00b", "x\ud800", "\udfffx", "c" * 256, ""])
def test_unstorable_strings_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        check_string(raw, "customerRef")


@given(json_values)
def test_a_document_without_findings_encodes_and_has_no_nul(value: object) -> None:
    import json

    if find_unsafe(value) is None:
        text = json.dumps(value, ensure_ascii=False)
        text.encode("utf-8")
        assert "\x00" not in json.dumps(value, ensure_ascii=False).replace("\\u0000", "\x00")


def test_find_unsafe_names_the_path() -> None:
    assert find_unsafe({"a": [1, {"b": "x\x00"}]})[:2] == ("a.1.b", "invalid_string")  # type: ignore[index]
    assert find_unsafe({"note": "n" * 10}, max_length=5)[:2] == ("note", "field_too_long")  # type: ignore[index]
    assert unsafe_reason("plain") is None


def test_a_deep_document_costs_no_stack() -> None:
    value: object = "x\ud800"
    for _ in range(50_000):
        value = [value]
    assert find_unsafe(value) is not None


def test_periods_stop_at_the_limit() -> None:
    spec = PeriodSpec(PeriodType.HOUR)
    start, end = datetime(1000, 1, 1, tzinfo=UTC), datetime(8999, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError) as info:
        periods_overlapping(spec, start, end, limit=100)
    assert info.value.code == "range_too_large"
    assert len(periods_overlapping(spec, start, datetime(1000, 1, 5, tzinfo=UTC), limit=100)) == 96
