"""Fault injection by route: the next N matching requests fail in a chosen way.

Kinds: `rate_limit` (429), `server_error` (500), `refuse` (400 with the given `code` and
`message`: Stripe refusing a request for good, e.g. `timestamp_too_far_in_past`), `hang`
(wait `delay` seconds, past the client's timeout, then process normally), `drop_response`
(commit, then cut the connection before the response is complete — the exactly-once
nightmare), `report` (meter events only: answered 200, not counted, and reported later as
Stripe reports a refusal — an asynchronous meter error report with the given `code`).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

from stripe_emulator.errors import StripeError, invalid

KINDS = ("rate_limit", "server_error", "refuse", "hang", "drop_response", "report")
# Kinds answered with an error instead of running the handler.
ERROR_KINDS = ("rate_limit", "server_error", "refuse")


@dataclass
class Fault:
    id: str
    kind: str
    method: str | None
    path: str
    count: int
    delay: float = 0.0
    should_retry: bool | None = None
    code: str | None = None
    message: str | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class FaultInjector:
    """Ordered fault rules; the first rule with remaining count fires."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> Fault:
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise invalid(f"Unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        path = str(spec.get("path") or "")
        if not path:
            raise invalid("A fault needs a `path` (exact, or a prefix ending in `*`)")
        retry = spec.get("should_retry")
        try:
            count, delay = int(spec.get("count", 1)), float(spec.get("delay", 30.0))
        except (TypeError, ValueError):
            raise invalid("`count` must be an integer and `delay` a number") from None
        fault = Fault(
            id=f"fault_{next(self._ids)}",
            kind=kind,
            method=(str(spec["method"]).upper() if spec.get("method") else None),
            path=path,
            count=count,
            delay=delay,
            should_retry=None if retry is None else bool(retry),
            code=None if spec.get("code") is None else str(spec["code"]),
            message=None if spec.get("message") is None else str(spec["message"]),
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first matching fault."""
        for fault in self._faults:
            if fault.count > fault.hits and fault.matches(method, path):
                fault.hits += 1
                return fault
        return None

    def list(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        self._faults.clear()


def fault_error(fault: Fault) -> StripeError:
    """The error an injected 429/500 answers with, with Stripe's retry hint if asked."""
    headers: dict[str, str] = {}
    if fault.should_retry is not None:
        headers["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"
    if fault.kind == "refuse":
        return StripeError(
            400,
            fault.message or "Request refused (injected fault).",
            code=fault.code,
            headers=headers,
        )
    if fault.kind == "rate_limit":
        return StripeError(
            429,
            "Request rate limit exceeded (injected fault).",
            code="rate_limit",
            headers=headers,
        )
    return StripeError(
        500,
        "An unknown error occurred (injected fault).",
        type="api_error",
        headers=headers,
    )
