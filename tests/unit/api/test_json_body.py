"""The msgspec decoder gives exactly what the standard decoder with exact decimals gives."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stripemeter_server.api.json_body import decode_exact, encode_plain
from stripemeter_server.domain import json_text

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: float(d) if d else 0.5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def _same(body: bytes) -> None:
    try:
        expected = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as error:
        with pytest.raises(type(error)):
            decode_exact(body)
        return
    # repr: exact types and digits (Decimal('1.50') is not Decimal('1.5')), and NaN == NaN
    assert repr(decode_exact(body)) == repr(expected)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_documents_decode_as_the_standard_decoder_decodes_them(value: object) -> None:
    _same(json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=40).map(lambda t: t.encode("utf-8", "replace")))
def test_any_bytes_decode_or_fail_as_the_standard_decoder_does(body: bytes) -> None:
    _same(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"q": 1.50}',
        b'{"q": 1e400}',
        b"[NaN]",
        b'["\\ud800"]',
        '{"a": 1}'.encode("utf-16"),
        b'{"a": 1, "a": 2}',
        b"[" * 5000 + b"]" * 5000,
        b'{"n": 100000000000000000000000000}',
    ],
)
def test_edge_cases_match(body: bytes) -> None:
    _same(body)


def test_decimals_stay_exact() -> None:
    assert decode_exact(b'{"q": 0.1}') == {"q": Decimal("0.1")}


plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(plain_values)
def test_plain_documents_encode_as_the_exact_encoder_writes_them(value: object) -> None:
    assert encode_plain(value) == json_text.dumps(value).encode("utf-8")
