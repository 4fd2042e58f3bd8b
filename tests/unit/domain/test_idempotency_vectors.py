"""The shared key vectors (``tests/vectors/idempotency.json``), checked two ways: against this
server's implementation and independently with the ``rfc8785`` library, ``hashlib`` and the
standard library's own ISO parser, so a bug in one cannot hide in the vectors."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from stripemeter_server.domain.idempotency import derive_idempotency_key, format_quantity
from stripemeter_server.domain.timestamps import format_timestamp, parse_timestamp

VECTORS_PATH = Path(__file__).resolve().parents[2] / "vectors" / "idempotency.json"
DOCUMENT: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = DOCUMENT["vectors"]
BY_NAME = {v["name"]: v for v in VECTORS}
PLAIN_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")


def _ids(vector: dict[str, Any]) -> str:
    return str(vector["name"])


def _server_meta(vector: dict[str, Any]) -> Any:
    """Meta as the server reads it: JSON numbers as exact decimals."""
    meta = vector["input"].get("meta")
    return json.loads(json.dumps(meta), parse_float=Decimal)


def _derive(vector: dict[str, Any], meta: Any) -> str:
    inp = vector["input"]
    return derive_idempotency_key(
        tenant_id=inp["tenantId"],
        metric=inp["metric"],
        customer_ref=inp["customerRef"],
        resource_id=inp.get("resourceId"),
        ts=parse_timestamp(inp["ts"]),
        quantity=Decimal(inp["quantity"]),
        meta=meta,
    )


def test_there_are_enough_vectors() -> None:
    assert len(VECTORS) >= 24


def test_vector_names_are_unique() -> None:
    assert len(BY_NAME) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_expected_key_matches_reference_jcs_and_sha256(vector: dict[str, Any]) -> None:
    inp = vector["input"]
    payload = [
        inp["tenantId"],
        inp["metric"],
        inp["customerRef"],
        inp.get("resourceId") or "",
        vector["canonicalTs"],
        vector["canonicalQuantity"],
        inp.get("meta") or None,
    ]
    digest = hashlib.sha256(rfc8785.dumps(payload)).hexdigest()
    assert vector["expected"] == "evt_" + digest[:32]


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_canonical_ts_matches_stdlib_iso_parser(vector: dict[str, Any]) -> None:
    # The stdlib parser truncates beyond microseconds too, but wants upper-case T and Z.
    parsed = datetime.fromisoformat(vector["input"]["ts"].upper()).astimezone(UTC)
    assert vector["canonicalTs"] == parsed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_canonical_quantity_is_plain_and_equal_in_value(vector: dict[str, Any]) -> None:
    canonical = vector["canonicalQuantity"]
    assert PLAIN_DECIMAL.fullmatch(canonical) and canonical != "-0"
    assert Decimal(canonical) == Decimal(vector["input"]["quantity"])


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_server_formats_ts_as_canonical(vector: dict[str, Any]) -> None:
    assert format_timestamp(parse_timestamp(vector["input"]["ts"])) == vector["canonicalTs"]


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_server_formats_quantity_as_canonical(vector: dict[str, Any]) -> None:
    assert format_quantity(Decimal(vector["input"]["quantity"])) == vector["canonicalQuantity"]


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_server_derives_expected_key_from_decimal_meta(vector: dict[str, Any]) -> None:
    assert _derive(vector, _server_meta(vector)) == vector["expected"]


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_server_derives_expected_key_from_float_meta(vector: dict[str, Any]) -> None:
    assert _derive(vector, vector["input"].get("meta")) == vector["expected"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("resource id absent", "resource id empty string (same key as absent)"),
        ("meta absent", "meta empty object (same key as absent)"),
        ("meta keys in one order", "meta keys in another order (same key)"),
        ("quantity 1.50", "quantity 1.5 (same key as 1.50)"),
        ("quantity 1E+2", "quantity 100 (same key as 1E+2)"),
        ("quantity -0", "quantity 0 (same key as -0)"),
        ("quantity 0 (same key as -0)", "quantity 0E-12 (same key as 0)"),
        ("ts with +05:30 offset", "ts with -08:00 offset (same instant as +05:30 and Z)"),
        ("ts with +05:30 offset", "minimal"),
        ("ts with nanoseconds (truncated)", "ts with microseconds"),
    ],
)
def test_equivalent_inputs_share_a_key(first: str, second: str) -> None:
    assert BY_NAME[first]["expected"] == BY_NAME[second]["expected"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("minimal", "with resource id"),
        ("minimal", "simple meta"),
        ("minimal", "quantity 1E+2"),
        ("minimal", "quantity -0"),
        ("minimal", "ts with microseconds"),
        ("quantity with 12 decimal places", "quantity 0 (same key as -0)"),
    ],
)
def test_different_inputs_have_different_keys(first: str, second: str) -> None:
    assert BY_NAME[first]["expected"] != BY_NAME[second]["expected"]
