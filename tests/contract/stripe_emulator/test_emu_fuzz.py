"""Fuzzing every Stripe route the emulator serves: parameters generated from each route's
declared schema (plus odd values, wrong shapes and unknown keys), ids that exist and ids
that do not, current and legacy API versions. No route may answer 5xx; every answer is a
Stripe-shaped body. Bounded by `max_examples`, not by time."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripe_emulator import EmulatorClock, EmulatorConfig
from stripe_emulator.engine import Emulator
from stripe_emulator.params import Arr, Free, Ignored, Legacy, Obj, Spec
from stripe_emulator.schemas import SCHEMAS, schema_for
from tests.contract.stripe_emulator.stripe_emulator_support import T0

ODD = [
    "",
    "abc",
    "0",
    "-1",
    "1",
    "2",
    "100",
    "1000",
    "1.5",
    "-0",
    "1e400",
    "NaN",
    "inf",
    "true",
    "false",
    "null",
    "99999999999999999999999",
    str(T0),
    str(T0 - 86400 * 40),
    "usd",
    "month",
    "hour",
    "day",
    "sum",
    "count",
    "last",
    "cancel",
    "metered",
    "licensed",
    "include",
    "draft",
    "open",
    "api_calls",
    "http://127.0.0.1:9/x",
    "\u00e9",
]
AUTH = {"authorization": "Bearer sk_test_fuzz", "content-type": "application/x-www-form-urlencoded"}
VERSIONS = [None, "2024-06-20", "2026-10-28.endive"]


def _scalar(ids: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(ODD + ids), st.text(max_size=12), st.integers(-(2**70), 2**70).map(str)
    )


def _value(spec: Spec, ids: list[str], depth: int = 0) -> st.SearchStrategy[Any]:
    """A value shaped like `spec` most of the time, and the wrong shape sometimes."""
    leaf = _scalar(ids)
    wrong = st.one_of(leaf, st.dictionaries(st.sampled_from(["a", "0", "x"]), leaf, max_size=2))
    if isinstance(spec, Legacy | Ignored):
        return _value(spec.spec, ids, depth)
    if isinstance(spec, Free):
        return st.one_of(st.dictionaries(st.text(min_size=1, max_size=6), leaf, max_size=3), leaf)
    if isinstance(spec, Arr):
        return st.one_of(st.lists(_value(spec.item, ids, depth + 1), max_size=3), wrong)
    if isinstance(spec, Obj):
        if depth > 3 or not spec.fields:
            return st.one_of(st.just({}), wrong)
        return st.one_of(_obj(spec, ids, depth + 1), wrong)
    return st.one_of(leaf, leaf, leaf, wrong)


def _obj(spec: Obj, ids: list[str], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(spec.fields)
    if not names:
        return st.just({})
    chosen = st.lists(st.sampled_from(names), unique=True, max_size=len(names))
    return chosen.flatmap(
        lambda keys: st.fixed_dictionaries({k: _value(spec.fields[k], ids, depth) for k in keys})
    )


def _flatten(value: Any, prefix: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}[{k}]")]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, str(value))]


def form(params: dict[str, Any]) -> str:
    """Stripe's bracket form encoding of nested data."""
    return urlencode([pair for k, v in params.items() for pair in _flatten(v, k)])


@pytest.fixture(scope="module")
def emulator() -> tuple[Emulator, list[str]]:
    emu = Emulator(EmulatorConfig(clock=EmulatorClock(frozen_at=T0), auto_deliver_webhooks=False))

    def post(path: str, params: dict[str, Any]) -> Any:
        out = asyncio.run(emu.handle("POST", path, "", AUTH, form(params).encode()))
        assert out.status == 200, out.body
        return out.body["id"]

    cus = post("/v1/customers", {"name": "Fuzz"})
    price = post(
        "/v1/prices",
        {
            "currency": "usd",
            "unit_amount": 100,
            "product_data": {"name": "P"},
            "recurring": {"interval": "month"},
        },
    )
    meter = post(
        "/v1/billing/meters",
        {"display_name": "m", "event_name": "api_calls", "default_aggregation": {"formula": "sum"}},
    )
    sub = post("/v1/subscriptions", {"customer": cus, "items": [{"price": price}]})
    inv = post("/v1/invoices", {"customer": cus})
    item = post(
        "/v1/invoiceitems", {"customer": cus, "amount": 5, "currency": "usd", "invoice": inv}
    )
    hook = post("/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/h", "enabled_events": ["*"]})
    return emu, [cus, price, meter, sub, inv, item, hook]


def _request(
    emu: Emulator, method: str, path: str, params: dict[str, Any], version: str | None
) -> Any:
    headers = dict(AUTH)
    if version:
        headers["stripe-version"] = version
    if path.startswith("/v2/"):
        headers["content-type"] = "application/json"
        return asyncio.run(emu.handle(method, path, "", headers, json.dumps(params).encode()))
    if method == "GET":
        return asyncio.run(emu.handle(method, path, form(params), headers, b""))
    return asyncio.run(emu.handle(method, path, "", headers, form(params).encode()))


@pytest.mark.parametrize("route", sorted(SCHEMAS), ids=lambda r: f"{r[0]} {r[1]}")
def test_no_parameter_makes_a_route_fail_with_a_server_error(
    emulator: tuple[Emulator, list[str]], route: tuple[str, str]
) -> None:
    emu, ids = emulator
    method, pattern = route
    spec = schema_for(method, pattern)
    extra = st.dictionaries(st.sampled_from(["bogus", "limit", "expand"]), _scalar(ids), max_size=1)

    # EMU_FUZZ_EXAMPLES raises the bound for a longer local hunt.
    examples = int(os.environ.get("EMU_FUZZ_EXAMPLES", "25"))

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        params=_obj(spec, ids),
        more=extra,
        ident=st.sampled_from([*ids, "x_missing", "%20"]),
        version=st.sampled_from(VERSIONS),
    )
    def probe(
        params: dict[str, Any], more: dict[str, Any], ident: str, version: str | None
    ) -> None:
        path = pattern.replace("{id}", ident)
        out = _request(emu, method, path, {**params, **more}, version)
        assert out.status < 500, (path, params, out.body)
        assert "error" in out.body or out.status == 200

    probe()
