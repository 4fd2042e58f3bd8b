"""Helpers shared by the emulator conformance tests (imported by conftest and tests)."""

from __future__ import annotations

import threading
import time
from typing import Any

import stripe
import uvicorn

from stripe_emulator.server import free_port

# 2026-01-15T00:00:00Z: minute, hour and day aligned, so summary windows are easy to reason about.
T0 = 1768435200


def make_meter(
    client: stripe.StripeClient, event_name: str = "api_calls", formula: str = "sum", **extra: Any
) -> Any:
    params: dict[str, Any] = {
        "display_name": event_name,
        "event_name": event_name,
        "default_aggregation": {"formula": formula},
        **extra,
    }
    return client.v1.billing.meters.create(params=params)


def send_event(
    client: stripe.StripeClient,
    customer: str,
    value: str,
    *,
    identifier: str | None = None,
    timestamp: int | None = None,
    event_name: str = "api_calls",
    options: dict[str, Any] | None = None,
) -> Any:
    params: dict[str, Any] = {
        "event_name": event_name,
        "payload": {"stripe_customer_id": customer, "value": value},
        "timestamp": T0 if timestamp is None else timestamp,
    }
    if identifier is not None:
        params["identifier"] = identifier
    return client.v1.billing.meter_events.create(params=params, options=options or {})


def wait_until(predicate: Any, what: str, limit: float = 10.0) -> None:
    """Bounded polling for cross-thread sequencing (not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


class Receiver:
    """A loopback webhook endpoint that records deliveries and answers scripted statuses."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks"
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._server = uvicorn.Server(
            uvicorn.Config(
                self._app,
                host="127.0.0.1",
                port=self.port,
                log_level="error",
                lifespan="off",
                interface="asgi3",
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self._lock:
            self.received.append((headers, body))
            status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def __enter__(self) -> Receiver:
        self._thread.start()
        wait_until(lambda: self._server.started, "webhook receiver start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
