"""Test clocks (`/v1/test_helpers/test_clocks`): each clock holds its own frozen time, and
the customers created with `test_clock=` live on it. Advancing a clock renews those
customers' subscriptions and finalizes their invoices at the clock's time, sending the
webhooks — how integration tests move time on Stripe.

Stripe advances asynchronously (the advance call answers `advancing`, a later retrieve
`ready`); the emulator does the work before answering, so the answer says `advancing`
as Stripe's does and every later read says `ready`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid, not_found
from stripe_emulator.forms import get_int, get_str
from stripe_emulator.periods import add_interval
from stripe_emulator.routing import Reply, Req, Router, list_envelope
from stripe_emulator.store import new_id, public
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

DELETES_AFTER = 30 * 86400
NO_SUBSCRIPTION_HORIZON_YEARS = 2


def customer_clock(emu: Emulator, customer_id: str | None) -> str | None:
    """The test clock a customer is attached to, if any."""
    customer = emu.store.get("customers", customer_id) if customer_id else None
    return None if customer is None else customer.get("test_clock")


def customer_now(emu: Emulator, customer_id: str | None) -> int:
    """ "Now" for a customer: its test clock's frozen time, else the emulator clock."""
    clock_id = customer_clock(emu, customer_id)
    clock = emu.store.get("test_clocks", clock_id) if clock_id else None
    return emu.clock.now() if clock is None else int(clock["frozen_time"])


def attachable_clock(emu: Emulator, clock_id: str | None) -> str | None:
    """Check the `test_clock` parameter of a new customer."""
    if clock_id is None:
        return None
    if emu.store.get("test_clocks", clock_id) is None:
        raise not_found("test_helpers.test_clock", clock_id, param="test_clock")
    return clock_id


def _view(clock: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = public(clock)
    return view


def _get(req: Req) -> dict[str, Any]:
    clock: dict[str, Any] | None = req.emu.store.get("test_clocks", req.path_params["id"])
    if clock is None:
        raise not_found("test_helpers.test_clock", req.path_params["id"])
    return clock


def create_clock(req: Req) -> Any:
    frozen = get_int(req.params, "frozen_time", required=True)
    assert frozen is not None
    clock: dict[str, Any] = {
        "id": new_id("clock"),
        "object": "test_helpers.test_clock",
        "created": req.now,
        "deletes_after": req.now + DELETES_AFTER,
        "frozen_time": frozen,
        "livemode": False,
        "name": get_str(req.params, "name"),
        "status": "ready",
        "status_details": {},
    }
    req.emu.store.put("test_clocks", clock["id"], clock)
    emit(req.emu, "test_helpers.test_clock.created", _view(clock))
    return _view(clock)


def retrieve_clock(req: Req) -> Any:
    return _view(_get(req))


def list_clocks(req: Req) -> Any:
    clocks = [_view(c) for c in reversed(list(req.emu.store.collection("test_clocks").values()))]
    return list_envelope(clocks, "/v1/test_helpers/test_clocks", req.params)


def _horizon(emu: Emulator, clock: dict[str, Any]) -> int:
    """Stripe's limit: two intervals of the clock's shortest subscription, else two years."""
    limits = []
    for sub in emu.store.collection("subscriptions").values():
        if sub.get("test_clock") == clock["id"] and sub["status"] != "canceled":
            item = emu.store.get("subscription_items", sub["_items"][0])
            rec = item["price"]["recurring"]
            limits.append(
                add_interval(clock["frozen_time"], rec["interval"], 2 * rec["interval_count"])
            )
    return (
        min(limits)
        if limits
        else add_interval(clock["frozen_time"], "year", NO_SUBSCRIPTION_HORIZON_YEARS)
    )


def advance_clock(req: Req) -> Any:
    from stripe_emulator.invoices import finalize_due
    from stripe_emulator.sub_lifecycle import renew_due

    clock = _get(req)
    target = get_int(req.params, "frozen_time", required=True)
    assert target is not None
    if target <= clock["frozen_time"]:
        raise invalid(
            "The test clock can only be advanced to a time after its current frozen_time.",
            param="frozen_time",
        )
    horizon = _horizon(req.emu, clock)
    if target > horizon:
        raise invalid(
            "Cannot advance more than two intervals of the shortest subscription "
            f"on this test clock (or two years without one): at most {horizon}.",
            param="frozen_time",
        )
    answer = {
        **_view(clock),
        "status": "advancing",
        "status_details": {"advancing": {"target_frozen_time": target}},
    }
    emit(req.emu, "test_helpers.test_clock.advancing", answer)
    clock["frozen_time"] = target
    renew_due(req.emu, target, clock["id"])
    finalize_due(req.emu, target, clock["id"])
    emit(req.emu, "test_helpers.test_clock.ready", _view(clock))
    return answer


def delete_clock(req: Req) -> Any:
    """Deleting a clock deletes its customers and their subscriptions, as Stripe does."""
    clock = _get(req)
    store = req.emu.store
    doomed = {
        c for c, v in store.collection("customers").items() if v.get("test_clock") == clock["id"]
    }
    for sub_id, sub in list(store.collection("subscriptions").items()):
        if sub["customer"] in doomed:
            for item_id in sub["_items"]:
                store.collection("subscription_items").pop(item_id, None)
            del store.collection("subscriptions")[sub_id]
    for customer_id in doomed:
        del store.collection("customers")[customer_id]
    del store.collection("test_clocks")[clock["id"]]
    emit(req.emu, "test_helpers.test_clock.deleted", _view(clock))
    return Reply({"id": clock["id"], "object": "test_helpers.test_clock", "deleted": True})


def register(router: Router) -> None:
    router.add("POST", "/v1/test_helpers/test_clocks", create_clock)
    router.add("GET", "/v1/test_helpers/test_clocks", list_clocks)
    router.add("GET", "/v1/test_helpers/test_clocks/{id}", retrieve_clock)
    router.add("DELETE", "/v1/test_helpers/test_clocks/{id}", delete_clock)
    router.add("POST", "/v1/test_helpers/test_clocks/{id}/advance", advance_clock)
