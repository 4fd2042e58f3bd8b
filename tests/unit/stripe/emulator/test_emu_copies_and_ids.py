"""The emulator's answer copy and its ids (ADR 0966): the copy is shaped exactly as
``shape`` of a deep copy and shares nothing that can change with the store's objects;
ids keep Stripe's look and do not repeat."""

from __future__ import annotations

import copy
import string
from typing import Any

import pytest

from stripe_emulator.store import StateStore, new_id
from stripe_emulator.versions import shape, shaped_copy

BODY: dict[str, Any] = {
    "object": "list",
    "data": [
        {"object": "price", "id": "price_1", "recurring": {"aggregate_usage": "sum", "n": 1}},
        {"object": "invoiceitem", "id": "ii_1", "amount": 5, "metadata": {"a": "b"}},
    ],
    "has_more": False,
}


@pytest.mark.parametrize("version", [None, "2024-12-18.acacia"])
def test_the_copy_is_shaped_as_shape_of_a_deep_copy(version: str | None) -> None:
    store = StateStore()
    assert shaped_copy(BODY, version, store) == shape(copy.deepcopy(BODY), version, store)


def test_the_copy_shares_nothing_that_can_change() -> None:
    original = copy.deepcopy(BODY)
    answer = shaped_copy(original, None, StateStore())
    answer["data"][1]["metadata"]["a"] = "changed"
    answer["data"].append({"object": "price"})
    original["data"][0]["recurring"]["n"] = 2  # the store's object changes later
    assert original["data"][1]["metadata"] == {"a": "b"}
    assert len(original["data"]) == 2
    assert answer["data"][0]["recurring"] == {"n": 1}


def test_ids_keep_stripes_look_and_do_not_repeat() -> None:
    ids = [new_id("mtrevt") for _ in range(2000)]
    alphabet = set(string.ascii_letters + string.digits)
    assert all(i.startswith("mtrevt_") and len(i) == len("mtrevt_") + 24 for i in ids)
    assert all(set(i[len("mtrevt_") :]) <= alphabet for i in ids)
    assert len(set(ids)) == len(ids)
    assert len(new_id("cus", 14)) == len("cus_") + 14
    # every character of the alphabet comes up (the table maps bytes onto all 62)
    assert set("".join(i[len("mtrevt_") :] for i in ids)) == alphabet
