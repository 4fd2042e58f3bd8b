"""The SDK's own RFC 8785 serializer agrees with a reference implementation."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from stripemeter._jcs import canonicalize

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_matches_reference_implementation(value: Any) -> None:
    assert canonicalize(value).encode() == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip(value: float) -> None:
    assert float(canonicalize(value)) == value or (value == 0 and canonicalize(value) == "0")


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (123.0, "123"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
    ],
)
def test_number_formatting_follows_ecmascript(number: float, text: str) -> None:
    assert canonicalize(number) == text


def test_keys_sorted_by_utf16_code_units() -> None:
    value = {"\U0001f600": 1, "\ufb33": 2, "a": 3}
    assert canonicalize(value) == json.dumps(
        {"a": 3, "\U0001f600": 1, "\ufb33": 2}, ensure_ascii=False, separators=(",", ":")
    )


def test_control_characters_escaped_in_lowercase_hex() -> None:
    assert canonicalize('\x1f\n"') == '"\\u001f\\n\\""'


def test_unsafe_integer_refused() -> None:
    with pytest.raises(ValueError, match="safe"):
        canonicalize(2**53)


def test_nan_refused() -> None:
    with pytest.raises(ValueError):
        canonicalize(math.nan)
