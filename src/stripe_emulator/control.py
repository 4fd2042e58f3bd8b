"""The control surface under `/_emulator/…` (not part of Stripe's API): clock, faults,
webhook delivery, inspection and reset, for tests and local development."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid
from stripe_emulator.routing import Req, Router
from stripe_emulator.store import public

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

P = "/_emulator"
# One clock move runs every renewal it passes: ten years bounds the work of one call.
MAX_STEP = 10 * 366 * 86400
_TUNABLE = (
    "requests_per_second",
    "meter_events_per_second",
    "require_known_customers",
    "meter_event_concurrency_per_customer",
    "invoice_finalize_grace",
    "async_meter_errors",
)


def process_time(emu: Emulator) -> dict[str, Any]:
    """Run what the passage of time causes: renewals, then due finalizations."""
    from stripe_emulator.invoices import finalize_due
    from stripe_emulator.sub_lifecycle import renew_due

    now = emu.clock.now()
    created = renew_due(emu, now)
    finalized = finalize_due(emu, now)
    return {"now": now, "invoices_created": created, "invoices_finalized": finalized}


def _clock(req: Req) -> dict[str, Any]:
    return {"now": req.emu.clock.now(), "frozen": req.emu.clock.frozen}


def get_clock(req: Req) -> Any:
    return _clock(req)


def advance(req: Req) -> Any:
    seconds = req.params.get("seconds")
    if not isinstance(seconds, int) or not 0 <= seconds <= MAX_STEP:
        raise invalid(
            f"`seconds` must be an integer from 0 to {MAX_STEP} (ten years)", param="seconds"
        )
    req.emu.clock.advance(seconds)
    return {**_clock(req), **process_time(req.emu)}


def set_clock(req: Req) -> Any:
    at = req.params.get("at")
    now = req.emu.clock.now()
    if not isinstance(at, int) or not now <= at <= now + MAX_STEP:
        raise invalid(
            "`at` must be an integer from the current emulator time to ten years after it",
            param="at",
        )
    req.emu.clock.set(at)
    return {**_clock(req), **process_time(req.emu)}


def freeze(req: Req) -> Any:
    at = req.params.get("at")
    req.emu.clock.freeze(at if isinstance(at, int) else None)
    return _clock(req)


def unfreeze(req: Req) -> Any:
    req.emu.clock.unfreeze()
    return _clock(req)


def process(req: Req) -> Any:
    return process_time(req.emu)


def add_fault(req: Req) -> Any:
    fault = req.emu.faults.add(req.params)
    return {"id": fault.id, "kind": fault.kind, "path": fault.path, "count": fault.count}


def list_faults(req: Req) -> Any:
    return {"data": req.emu.faults.list()}


def clear_faults(req: Req) -> Any:
    req.emu.faults.clear()
    return {"cleared": True}


def configure(req: Req) -> Any:
    for key, value in req.params.items():
        if key not in _TUNABLE:
            raise invalid(f"Unknown setting {key}; tunable: {', '.join(_TUNABLE)}", param=key)
        setattr(req.emu.config, key, value)
    return {key: getattr(req.emu.config, key) for key in _TUNABLE}


def reset_clock(req: Req) -> Any:
    """Back to the clock the emulator started with (wall time for `stripemeter
    stripe-emulator`): undoes every advance, e.g. before re-running a scenario whose meter
    events are stamped with the real time."""
    req.emu.clock.restore(req.emu.initial_clock)
    return _clock(req)


def reset(req: Req) -> Any:
    """Forget every object, fault and rate-limit count, and return the clock to its start."""
    req.emu.clock.restore(req.emu.initial_clock)
    req.emu.store.reset()
    req.emu.faults.clear()
    req.emu.limiter.reset()
    return {"reset": True}


def _events(req: Req) -> Any:
    return {
        "data": [
            {
                "identifier": e["identifier"],
                "event_name": e["event_name"],
                "meter": e["_meter"],
                "customer": e["_customer"],
                "value": e["_value"],
                "timestamp": e["timestamp"],
                "received_at": e["created"],
                "cancelled_at": e["_cancelled_at"],
                "source": e["_source"],
                "payload": e["payload"],
            }
            for e in req.emu.store.collection("meter_events").values()
        ]
    }


def _adjustments(req: Req) -> Any:
    return {"data": list(req.emu.store.collection("meter_event_adjustments").values())}


def _invoice_items(req: Req) -> Any:
    return {"data": [public(i) for i in req.emu.store.collection("invoice_items").values()]}


def _deliveries(req: Req) -> Any:
    return {"data": list(req.emu.store.collection("deliveries").values())}


def _stream_errors(req: Req) -> Any:
    return {"data": list(req.emu.store.extra.get("stream_errors", []))}


def _locks(req: Req) -> Any:
    """Held (customer, meter) slots and in-flight idempotency keys: lets tests wait for a
    request to be mid-flight before racing a second one."""
    return {
        "data": [list(k) for k in req.emu.limiter.held()],
        "idempotency_keys": req.emu.idempotency.in_flight(),
    }


def _state(req: Req) -> Any:
    return req.emu.store.snapshot()


async def deliver(req: Req) -> Any:
    """Deliver every webhook due now and report each attempt (deterministic for tests)."""
    return {"data": await req.emu.delivery.run_due()}


def health(req: Req) -> Any:
    return {"ok": True, "now": req.emu.clock.now()}


def register(router: Router) -> None:
    router.add("GET", f"{P}/health", health)
    router.add("GET", f"{P}/clock", get_clock)
    router.add("POST", f"{P}/clock/advance", advance)
    router.add("POST", f"{P}/clock/set", set_clock)
    router.add("POST", f"{P}/clock/freeze", freeze)
    router.add("POST", f"{P}/clock/unfreeze", unfreeze)
    router.add("POST", f"{P}/clock/reset", reset_clock)
    router.add("POST", f"{P}/process", process)
    router.add("POST", f"{P}/faults", add_fault)
    router.add("GET", f"{P}/faults", list_faults)
    router.add("DELETE", f"{P}/faults", clear_faults)
    router.add("POST", f"{P}/config", configure)
    router.add("POST", f"{P}/reset", reset)
    router.add("GET", f"{P}/meter_events", _events)
    router.add("GET", f"{P}/meter_event_adjustments", _adjustments)
    router.add("GET", f"{P}/invoice_items", _invoice_items)
    router.add("GET", f"{P}/deliveries", _deliveries)
    router.add("GET", f"{P}/stream_errors", _stream_errors)
    router.add("GET", f"{P}/locks", _locks)
    router.add("GET", f"{P}/state", _state)
    router.add_async("POST", f"{P}/webhooks/deliver", deliver)
