"""Webhook endpoints, events and signed delivery with retries.

Deliveries are attempted over HTTP on loopback only. Each attempt is signed like Stripe
(`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`) with the real wall time, so a
receiver's `stripe.Webhook.construct_event` accepts it even when the emulator clock has
been advanced. Failed attempts are retried on a backoff schedule measured on the
emulator clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from stripe_emulator.errors import invalid, missing_param, not_found
from stripe_emulator.forms import get_str, get_strings, metadata, req_str
from stripe_emulator.routing import Reply, Req, Router, list_envelope
from stripe_emulator.store import new_id, public
from stripe_emulator.versions import shape

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

API_VERSION = "2025-03-31.basil"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value for a payload."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def emit(
    emu: Emulator, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Record an event and queue a delivery to every endpoint that wants it."""
    now = emu.clock.now()
    endpoints = [
        e
        for e in emu.store.collection("webhook_endpoints").values()
        if e["status"] == "enabled"
        and ("*" in e["enabled_events"] or event_type in e["enabled_events"])
    ]
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    event = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": now,
        "data": data,
        "livemode": False,
        "pending_webhooks": len(endpoints),
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    emu.store.put("events", event["id"], event)
    for endpoint in endpoints:
        delivery = {
            "id": new_id("whdel"),
            "event": event["id"],
            "endpoint": endpoint["id"],
            "status": "pending",
            "attempts": [],
            "next_attempt_at": now,
        }
        emu.store.put("deliveries", delivery["id"], delivery)
    return event


def listeners(emu: Emulator, event_type: str) -> int:
    return sum(
        1
        for e in emu.store.collection("webhook_endpoints").values()
        if e["status"] == "enabled"
        and ("*" in e["enabled_events"] or event_type in e["enabled_events"])
    )


class Deliverer:
    """Runs due deliveries; one run at a time so an attempt is never sent twice."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu
        self._run_lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None
        self._kicked: asyncio.Task[Any] | None = None

    def _lock(self) -> asyncio.Lock:
        if self._run_lock is None:
            self._run_lock = asyncio.Lock()
        return self._run_lock

    def kick(self) -> None:
        """Schedule a delivery run soon (after the current response is sent)."""
        if self._kicked is not None and not self._kicked.done():
            return
        if any(d["status"] == "pending" for d in self._emu.store.collection("deliveries").values()):
            self._kicked = asyncio.get_running_loop().create_task(self.run_due())

    def start(self) -> None:
        if self._emu.config.auto_deliver_webhooks and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self) -> None:
        for task in (self._task, self._kicked):
            if task is not None and not task.done():
                task.cancel()
        self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._emu.config.webhook_poll_interval)
            try:
                from stripe_emulator.control import process_time

                with self._emu.store.lock:
                    if process_time(self._emu)["invoices_created"]:
                        self._emu.persist()
                await self.run_due()
            except Exception:  # keep the loop alive; failures are recorded per attempt
                continue

    async def run_due(self) -> list[dict[str, Any]]:
        """Attempt every pending delivery due now; returns one report per attempt."""
        emu = self._emu
        async with self._lock():
            with emu.store.lock:
                now = emu.clock.now()
                due = []
                for d in emu.store.collection("deliveries").values():
                    if d["status"] == "pending" and d["next_attempt_at"] <= now:
                        from stripe_emulator.event_destinations import delivery_target, thin

                        endpoint = emu.store.get(
                            "webhook_endpoints", d["endpoint"]
                        ) or delivery_target(emu, d["endpoint"])  # a v2 event destination
                        event = emu.store.get("events", d["event"])
                        v2_event = emu.store.get("v2_events", d["event"])
                        if endpoint is None or (event is None and v2_event is None):
                            d["status"] = "failed"
                            continue
                        body = (
                            thin(v2_event)
                            if event is None
                            else shape(public(event), API_VERSION, emu.store)
                        )
                        due.append((d["id"], endpoint["url"], endpoint["secret"], body))
            reports: list[dict[str, Any]] = []
            if not due:  # the common poll: no client (its TLS context costs milliseconds)
                return reports
            async with httpx.AsyncClient(timeout=emu.config.webhook_timeout) as client:
                for delivery_id, url, secret, event in due:
                    payload = json.dumps(event, indent=2)
                    headers = {
                        "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": sign(payload, secret, emu.clock.wall_now()),
                        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    }
                    status: int | None = None
                    error: str | None = None
                    try:
                        response = await client.post(url, content=payload, headers=headers)
                        status = response.status_code
                    except httpx.HTTPError as exc:
                        error = f"{type(exc).__name__}: {exc}"
                    reports.append(self._record(delivery_id, event, status, error))
            with emu.store.lock:
                emu.persist()
            return reports

    def _record(
        self, delivery_id: str, event: dict[str, Any], status: int | None, error: str | None
    ) -> dict[str, Any]:
        emu = self._emu
        with emu.store.lock:
            now = emu.clock.now()
            d = emu.store.get("deliveries", delivery_id)
            ok = status is not None and 200 <= status < 300
            d["attempts"].append({"at": now, "status": status, "error": error})
            schedule = emu.config.webhook_retry_schedule
            if ok:
                d["status"] = "succeeded"
                stored = emu.store.get("events", event["id"])
                if stored is not None:
                    stored["pending_webhooks"] = max(0, stored["pending_webhooks"] - 1)
                if event["type"] == "invoice.created":
                    from stripe_emulator.invoices import on_created_delivered

                    on_created_delivered(emu, event["data"]["object"]["id"], now)
            elif len(d["attempts"]) > len(schedule):
                d["status"] = "failed"
            else:
                d["next_attempt_at"] = now + schedule[len(d["attempts"]) - 1]
            return {
                "delivery": delivery_id,
                "event": event["id"],
                "type": event["type"],
                "endpoint": d["endpoint"],
                "status": status,
                "error": error,
                "result": d["status"],
                "next_attempt_at": d["next_attempt_at"],
            }


# -- API routes ---------------------------------------------------------------------------
def _endpoint_view(endpoint: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    view = {"application": None, **public(endpoint)}
    if not with_secret:
        view.pop("secret", None)
    return view


def _loopback_url(params: dict[str, Any]) -> str:
    """The endpoint URL, refused unless it is on this machine (the emulator never sends
    anything elsewhere)."""
    url = req_str(params, "url")
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if host not in LOOPBACK_HOSTS:
        raise invalid(
            "The emulator only delivers webhooks to loopback URLs (127.0.0.1, localhost, ::1).",
            param="url",
            code="url_invalid",
        )
    return url


def create_endpoint(req: Req) -> Any:
    p = req.params
    url = _loopback_url(p)
    events = get_strings(p, "enabled_events")
    if not events:
        raise missing_param("enabled_events")
    endpoint = {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": get_str(p, "api_version"),
        "created": req.now,
        "description": get_str(p, "description"),
        "enabled_events": events,
        "livemode": False,
        "metadata": metadata(p),
        "secret": "whsec_" + secrets.token_hex(16),
        "status": "enabled",
        "url": url,
    }
    req.emu.store.put("webhook_endpoints", endpoint["id"], endpoint)
    return _endpoint_view(endpoint, with_secret=True)


def _get_endpoint(req: Req) -> dict[str, Any]:
    endpoint = req.emu.store.find("webhook_endpoints", req.path_params["id"])
    if endpoint is None:
        raise not_found("webhook_endpoint", req.path_params["id"])
    return endpoint


def retrieve_endpoint(req: Req) -> Any:
    return _endpoint_view(_get_endpoint(req))


def update_endpoint(req: Req) -> Any:
    endpoint = _get_endpoint(req)
    if "disabled" in req.params:
        endpoint["status"] = "disabled" if req.params["disabled"] == "true" else "enabled"
    if "url" in req.params:
        endpoint["url"] = _loopback_url(req.params)
    events = get_strings(req.params, "enabled_events")
    if events:
        endpoint["enabled_events"] = events
    if "description" in req.params:
        endpoint["description"] = get_str(req.params, "description")
    for key, value in metadata(req.params).items():
        if value == "":
            endpoint["metadata"].pop(key, None)
        else:
            endpoint["metadata"][key] = value
    return _endpoint_view(endpoint)


def delete_endpoint(req: Req) -> Any:
    endpoint = _get_endpoint(req)
    del req.emu.store.collection("webhook_endpoints")[endpoint["id"]]
    return Reply({"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True})


def list_endpoints(req: Req) -> Any:
    items = [
        _endpoint_view(e)
        for e in reversed(list(req.emu.store.collection("webhook_endpoints").values()))
    ]
    return list_envelope(items, "/v1/webhook_endpoints", req.params)


def list_events(req: Req) -> Any:
    kind = get_str(req.params, "type")
    types = get_strings(req.params, "types")
    wanted = set(types) if types else None
    items = [
        public(e)
        for e in reversed(list(req.emu.store.collection("events").values()))
        if (kind is None or e["type"] == kind) and (wanted is None or e["type"] in wanted)
    ]
    return list_envelope(items, "/v1/events", req.params)


def retrieve_event(req: Req) -> Any:
    event = req.emu.store.get("events", req.path_params["id"])
    if event is None:
        raise not_found("event", req.path_params["id"])
    return public(event)


def register(router: Router) -> None:
    router.add("POST", "/v1/webhook_endpoints", create_endpoint)
    router.add("GET", "/v1/webhook_endpoints", list_endpoints)
    router.add("GET", "/v1/webhook_endpoints/{id}", retrieve_endpoint)
    router.add("POST", "/v1/webhook_endpoints/{id}", update_endpoint)
    router.add("DELETE", "/v1/webhook_endpoints/{id}", delete_endpoint)
    router.add("GET", "/v1/events", list_events)
    router.add("GET", "/v1/events/{id}", retrieve_event)
