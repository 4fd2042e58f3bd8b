"""The shared idempotency vectors: the SDK derives exactly the server's keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sdk_testkit import VECTORS
from stripemeter import canonical_quantity, canonical_ts, compute_idempotency_key
from stripemeter._core import ClientCore


def _vectors() -> list[dict[str, Any]]:
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    return list(data["vectors"])


VECTOR_CASES = [pytest.param(v, id=v["name"]) for v in _vectors()]


def test_vectors_file_is_not_empty() -> None:
    assert len(VECTOR_CASES) > 0


@pytest.mark.parametrize("vector", VECTOR_CASES)
def test_key_matches_vector(vector: dict[str, Any]) -> None:
    i = vector["input"]
    key = compute_idempotency_key(
        i["tenantId"],
        i["metric"],
        i["customerRef"],
        i["ts"],
        i["quantity"],
        i.get("resourceId"),
        i.get("meta"),
    )
    assert key == vector["expected"]


@pytest.mark.parametrize("vector", VECTOR_CASES)
def test_canonical_ts_matches_vector(vector: dict[str, Any]) -> None:
    assert canonical_ts(vector["input"]["ts"]) == vector["canonicalTs"]


@pytest.mark.parametrize("vector", VECTOR_CASES)
def test_canonical_quantity_matches_vector(vector: dict[str, Any]) -> None:
    assert canonical_quantity(vector["input"]["quantity"]) == vector["canonicalQuantity"]


@pytest.mark.parametrize("vector", VECTOR_CASES)
def test_event_payload_carries_vector_key(vector: dict[str, Any]) -> None:
    i = vector["input"]
    core = ClientCore("http://127.0.0.1:9", "sk_test", i["tenantId"], None, None)
    event = core.make_event(
        i["metric"],
        i["customerRef"],
        i["quantity"],
        i["ts"],
        i.get("meta"),
        i.get("resourceId"),
        None,
    )
    payload = core.event_payload(event)
    assert (payload["idempotencyKey"], payload["ts"], payload["quantity"]) == (
        vector["expected"],
        vector["canonicalTs"],
        vector["canonicalQuantity"],
    )
