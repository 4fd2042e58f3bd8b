"""JCS canonicalisation: fixed cases from RFC 8785 and ECMA-262, and a cross-check against the
reference ``rfc8785`` library over random JSON values."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.json_text import canonicalize, format_double

SAFE_INT = 2**53 - 1

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE_INT, max_value=SAFE_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@given(json_values)
def test_matches_reference_library(value: object) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)  # type: ignore[arg-type]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_decimal_is_serialised_as_the_nearest_double(number: float) -> None:
    assert canonicalize(Decimal(repr(number))) == rfc8785.dumps(number)


@given(st.text())
def test_strings_match_reference_library(text: str) -> None:
    assert canonicalize(text) == rfc8785.dumps(text)


@given(st.dictionaries(st.text(), st.integers(0, 9), max_size=10))
def test_keys_sorted_like_reference_library(obj: dict[str, int]) -> None:
    assert canonicalize(obj) == rfc8785.dumps(obj)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (123e-20, "1.23e-18"),
        (333333333.33333329, "333333333.3333333"),
        (1e30, "1e+30"),
        (4.50, "4.5"),
        (2e-3, "0.002"),
        (1e-27, "1e-27"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"),
        (295147905179352830000.0, "295147905179352830000"),
        (1.2345e25, "1.2345e+25"),
        (123456789012.5, "123456789012.5"),
    ],
)
def test_number_formatting_follows_ecmascript(number: float, expected: str) -> None:
    assert format_double(number) == expected


def test_int_beyond_double_precision_rounds_like_javascript() -> None:
    assert canonicalize(2**53 + 1) == b"9007199254740992"


def test_large_int_uses_exponent_form() -> None:
    assert canonicalize(10**21) == b"1e+21"


def test_decimal_in_plain_and_exponent_notation() -> None:
    assert canonicalize([Decimal("1.50"), Decimal("1E+2"), Decimal("-0"), Decimal("1E-7")]) == (
        b"[1.5,100,0,1e-7]"
    )


def test_decimal_rounds_to_nearest_double() -> None:
    assert canonicalize(Decimal("0.1000000000000000000001")) == b"0.1"


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("1E+400"),
        10**400,
    ],
)
def test_non_finite_numbers_are_rejected(value: object) -> None:
    with pytest.raises(ValueError):
        canonicalize(value)


def test_rfc8785_string_example() -> None:
    text = json.loads('"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"')
    assert canonicalize(text) == '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"'.encode()


def test_control_characters_use_short_forms_where_they_exist() -> None:
    assert canonicalize("\b\t\n\f\r") == b'"\\b\\t\\n\\f\\r"'


def test_other_control_characters_use_lowercase_hex() -> None:
    assert canonicalize("\x00\x1f\x0b") == b'"\\u0000\\u001f\\u000b"'


def test_non_ascii_and_delete_are_not_escaped() -> None:
    assert canonicalize("\x7f\u2028é😀") == '"\x7f\u2028é😀"'.encode()


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(ValueError):
        canonicalize("\ud800")


def test_keys_sorted_by_utf16_code_units() -> None:
    obj = dict.fromkeys(["€", "\r", "דּ", "1", "😀", "\x80", "ö"])
    expected_order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    expected = (
        "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:null" for k in expected_order) + "}"
    )
    assert canonicalize(obj) == expected.encode()


def test_nested_structure_has_no_whitespace() -> None:
    value = {"b": [1, True, None, {"z": "x", "a": []}], "a": {}}
    assert canonicalize(value) == b'{"a":{},"b":[1,true,null,{"a":[],"z":"x"}]}'


def test_tuple_is_an_array() -> None:
    assert canonicalize(("a", 1)) == b'["a",1]'


def test_non_string_key_is_rejected() -> None:
    with pytest.raises(TypeError):
        canonicalize({1: "a"})


def test_unsupported_type_is_rejected() -> None:
    with pytest.raises(TypeError):
        canonicalize({1, 2})
