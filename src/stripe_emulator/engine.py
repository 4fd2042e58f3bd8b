"""The request pipeline shared by every route: auth, faults, rate limits, idempotency,
the per-customer meter lock, the handler (atomic under the store lock), persistence."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from stripe_emulator import (
    billing,
    control,
    control_drift,
    echo,
    invoice_items,
    invoices,
    meter_events,
    meters,
    subscriptions,
    surface,
    v2,
    webhooks,
)
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.errors import StripeError
from stripe_emulator.faults import ERROR_KINDS, Fault, FaultInjector, fault_error
from stripe_emulator.forms import decode_form
from stripe_emulator.idempotency import IdempotencyCache, fingerprint
from stripe_emulator.params import check_params
from stripe_emulator.ratelimit import RateLimiter
from stripe_emulator.routing import Reply, Req, Router
from stripe_emulator.schemas import check_coverage, schema_for
from stripe_emulator.store import StateStore
from stripe_emulator.versions import is_legacy, shaped_copy

CONTROL_PREFIX = "/_emulator"
_METER_EVENT_PATHS = ("/v1/billing/meter_events", "/v2/billing/meter_events")


@dataclass
class Outcome:
    """What the ASGI layer sends: a JSON response, or a deliberately dropped one."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_")


def mask_key(key: str) -> str:
    """Stripe's masking in "Invalid API Key provided": the mode prefix (`sk_test_`) and the
    last four characters stay, everything between becomes `*`. A key too short to hide
    anything behind its last four is starred whole, never shown or garbled."""
    head = next((p for p in _KEY_PREFIXES if key.startswith(p)), "")
    rest = len(key) - len(head)
    if rest < 8:
        return head + "*" * rest
    return head + "*" * (rest - 4) + key[-4:]


class Emulator:
    """All state and behaviour of one emulated Stripe account."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.store = StateStore(config.state_file)
        # What `POST /_emulator/reset` and `/clock/reset` return the clock to.
        self.initial_clock = self.clock.snapshot()
        if "clock" in self.store.extra:
            self.clock.restore(self.store.extra["clock"])
        self.faults = FaultInjector()
        self.limiter = RateLimiter()
        self.idempotency = IdempotencyCache(self.store, config.idempotency_ttl)
        self.router = Router()
        for module in (
            billing,
            meters,
            meter_events,
            v2,
            subscriptions,
            invoices,
            invoice_items,
            webhooks,
            surface,
        ):
            module.register(self.router)
        check_coverage(self.router.routes)
        self.control = Router()
        control.register(self.control)
        control_drift.register(self.control)
        surface.register_control(self.control)
        self.delivery = webhooks.Deliverer(self)

    # -- helpers -----------------------------------------------------------------------
    def persist(self) -> None:
        self.store.extra["clock"] = self.clock.snapshot()
        self.store.persist()

    def _authenticate(self, req: Req) -> None:
        auth = req.headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if auth.lower().startswith("basic "):  # `curl -u sk_test_…:` as in Stripe's docs
            try:
                key = base64.b64decode(auth[6:].strip()).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        if req.path == "/v2/billing/meter_event_stream":
            v2.authenticate_stream(req, key)
            req.api_key = key
            return
        if not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your "
                "API key in the Authorization header, using Bearer auth.",
            )
        allowed = self.config.api_keys
        valid = key in allowed if allowed is not None else key.startswith(("sk_", "rk_"))
        if not valid:
            shown = mask_key(key)
            raise StripeError(
                401,
                f"Invalid API Key provided: {shown}",
                code="api_key_invalid" if req.v2 else None,
            )
        req.api_key = key

    def _parse(
        self, method: str, path: str, query: str, body: bytes, content_type: str
    ) -> dict[str, Any]:
        params = decode_form(query) if query else {}
        if method in ("POST", "DELETE") and body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise StripeError(400, "The request body is not valid UTF-8.") from None
            if path.startswith(("/v2/", CONTROL_PREFIX)) or "json" in content_type:
                try:
                    loaded = json.loads(text)
                except json.JSONDecodeError:
                    raise StripeError(400, "Invalid JSON body.") from None
                if not isinstance(loaded, dict):
                    raise StripeError(400, "The request body must be a JSON object.")
                params.update(loaded)
            else:
                params.update(decode_form(text))
        return params

    # -- the pipeline ------------------------------------------------------------------
    async def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Outcome:
        request_id = "req_" + secrets.token_hex(7)
        base = {"Request-Id": request_id}
        v2_mode = path.startswith("/v2/")
        try:
            params = self._parse(method, path, query, body, headers.get("content-type", ""))
        except StripeError as err:
            return Outcome(err.status, err.body(v2=v2_mode), {**base, **err.headers})
        if path.startswith(CONTROL_PREFIX):
            return await self._control(method, path, params, headers, base)
        matched = self.router.match(method, path)
        req = Req(
            method,
            path,
            params,
            {},
            headers,
            self,
            query=query,
            stripe_version=headers.get("stripe-version"),
        )
        if matched is None:
            unrouted = StripeError(
                404,
                f"Unrecognized request URL ({method}: {path}). Please "
                "see https://stripe.com/docs or we can help at "
                "https://support.stripe.com/.",
            )
            return Outcome(404, unrouted.body(v2=v2_mode), base)
        route, req.path_params = matched
        idem_key = headers.get("idempotency-key") if method == "POST" else None
        fp = fingerprint(method, path, params) if idem_key else ""
        lock: tuple[str, str] | None = None
        began = False
        fault: Fault | None = None
        try:
            with self.store.lock:
                self._authenticate(req)
                fault = self.faults.take(method, path)
                if fault is not None and fault.kind in ERROR_KINDS:
                    raise fault_error(fault)
                if fault is not None and fault.kind == "report":
                    req.reported = (
                        fault.code or "meter_event_customer_not_found",
                        fault.message or "Meter event refused (injected fault).",
                    )
                now = self.clock.now()
                self.limiter.hit("all", self.config.requests_per_second, now)
                if path in _METER_EVENT_PATHS:
                    self.limiter.hit("meter_events", self.config.meter_events_per_second, now)
                check_params(
                    params,
                    schema_for(route.method, route.pattern),
                    legacy=is_legacy(req.stripe_version),
                )
                if idem_key:
                    assert req.api_key is not None
                    saved = self.idempotency.begin(req.api_key, idem_key, fp, now, v2=v2_mode)
                    if saved is not None:
                        return Outcome(
                            saved.status,
                            saved.body,
                            {**base, "Idempotency-Key": idem_key, "Idempotent-Replayed": "true"},
                        )
                    began = True
                if path in _METER_EVENT_PATHS and self.config.meter_event_concurrency_per_customer:
                    key = meter_events.concurrency_key(req)
                    if key is not None:
                        lock = self.limiter.acquire(*key)
            if fault is not None and fault.kind == "hang":
                await asyncio.sleep(fault.delay)
            with self.store.lock:
                echo.before(req, (route.method, route.pattern))
                result = route.handler(req)
                reply = result if isinstance(result, Reply) else Reply(result)
                echo.after(req, (route.method, route.pattern), reply.body)
                if not v2_mode:
                    reply.body = shaped_copy(reply.body, req.stripe_version, self.store)
                if method != "GET":
                    self.persist()
            status, out, extra = reply.status, reply.body, reply.headers
        except StripeError as err:
            status, out, extra = err.status, err.body(v2=v2_mode), err.headers
        except Exception as exc:  # a bug in the emulator: answer like Stripe's 500
            bug = StripeError(
                500, f"Emulator internal error: {type(exc).__name__}: {exc}", type="api_error"
            )
            status, out, extra = bug.status, bug.body(v2=v2_mode), {}
        finally:
            if lock is not None:
                self.limiter.release(lock)
        if began and idem_key and req.api_key:
            with self.store.lock:
                self.idempotency.finish(req.api_key, idem_key, fp, self.clock.now(), status, out)
                self.persist()
        resp_headers = {**base, **extra}
        if idem_key:
            resp_headers["Idempotency-Key"] = idem_key
        if self.config.auto_deliver_webhooks:
            self.delivery.kick()
        drop = fault is not None and fault.kind == "drop_response"
        return Outcome(status, out, resp_headers, drop=drop)

    async def _control(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        headers: dict[str, str],
        base: dict[str, str],
    ) -> Outcome:
        matched = self.control.match(method, path)
        if matched is None:
            return Outcome(
                404,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Unknown control route {path}",
                    }
                },
                base,
            )
        route, path_params = matched
        req = Req(method, path, params, path_params, headers, self)
        try:
            if route.is_async:
                result = await route.handler(req)
            else:
                with self.store.lock:
                    result = route.handler(req)
                    self.persist()
        except StripeError as err:
            return Outcome(err.status, err.body(), base)
        reply = result if isinstance(result, Reply) else Reply(result)
        return Outcome(reply.status, reply.body, {**base, **reply.headers})
