"""Transport-independent core shared by the sync and async clients.

The clients only run the I/O loop; everything else — configuration, request building,
node selection, the retry decision and response parsing — lives here, so both clients
behave identically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from ._calls import CallState, NodePool
from .errors import (
    APIError,
    ConfigurationError,
    EventRejectedError,
    error_class_for_status,
)
from .idempotency import (
    Quantity,
    Timestamp,
    canonical_quantity,
    canonical_ts,
    compute_idempotency_key,
)
from .models import (
    Event,
    EventResult,
    IngestResult,
    Metric,
    MetricSchema,
    Projection,
    Usage,
    UsageQueryResult,
)
from .periods import BillingPeriod
from .retry import RetryPolicy, parse_retry_after

T = TypeVar("T")

__version__ = "0.1.0"
USER_AGENT = f"stripemeter-python/{__version__}"
DEFAULT_URL = "http://127.0.0.1:3000"
MAX_BATCH_EVENTS = 1000
MAX_BATCH_BYTES = 900 * 1024  # the server's limit is 1 MiB; keep headroom for the envelope

PeriodLike = BillingPeriod | tuple[datetime | str, datetime | str]
EventLike = Event | Mapping[str, Any]


@dataclass(frozen=True)
class Op(Generic[T]):
    """One API call: what to send and how to read a successful answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    body: bytes | None = None
    params: Mapping[str, str] | None = None


def encode_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _split_urls(api_url: str | Sequence[str] | None) -> list[str]:
    if api_url is None:
        api_url = os.environ.get("STRIPEMETER_URL") or DEFAULT_URL
    items = api_url.split(",") if isinstance(api_url, str) else list(api_url)
    # Unimeter's node lists are bare "host:port" addresses: plain HTTP is meant.
    urls = [_with_scheme(u.strip().rstrip("/")) for u in items if u and u.strip()]
    if not urls:
        raise ConfigurationError("at least one stripemeter node URL is required")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"node URL must start with http:// or https://: {url!r}")
    return urls


def _with_scheme(url: str) -> str:
    return url if "://" in url else "http://" + url


class ClientCore:
    """Configuration and request/response logic common to both clients."""

    def __init__(
        self,
        api_url: str | Sequence[str] | None,
        api_key: str | None,
        tenant_id: str | None,
        customer_id: str | None,
        retry: RetryPolicy | None,
    ) -> None:
        self.nodes = NodePool(_split_urls(api_url))
        key = api_key if api_key is not None else os.environ.get("STRIPEMETER_API_KEY")
        if not key:
            raise ConfigurationError(
                "an API key is required: pass api_key= or set STRIPEMETER_API_KEY"
            )
        self.api_key = key
        self.tenant_id = (
            tenant_id if tenant_id is not None else (os.environ.get("STRIPEMETER_TENANT") or None)
        )
        self.customer_id = customer_id
        self.retry = retry if retry is not None else RetryPolicy()

    # -- HTTP plumbing ---------------------------------------------------------------------

    def start_call(self) -> CallState:
        return CallState(self)

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }

    def error_from_response(self, response: httpx.Response) -> APIError:
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = response.text
        problem = body if isinstance(body, dict) else {}
        detail = problem.get("detail")
        title = problem.get("title")
        code = problem.get("code")
        message = f"HTTP {response.status_code}"
        if code:
            message += f" {code}"
        if detail or title:
            message += f": {detail or title}"
        cls = error_class_for_status(response.status_code)
        errors = problem.get("errors")
        return cls(
            message,
            status=response.status_code,
            code=code,
            title=title,
            detail=detail,
            errors=errors if isinstance(errors, list) else [],
            request_id=problem.get("requestId") or response.headers.get("x-request-id"),
            body=body,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )

    # -- events ----------------------------------------------------------------------------

    def customer(self, customer_ref: object) -> str:
        ref = customer_ref if customer_ref is not None else self.customer_id
        if ref is None or ref == "":
            raise ValueError("customer_ref is required (no default customer_id on the client)")
        return str(ref)

    def make_event(
        self,
        metric: str,
        customer_ref: object,
        quantity: Quantity,
        ts: Timestamp | None,
        meta: Mapping[str, Any] | None,
        resource_id: str | None,
        idempotency_key: str | None,
    ) -> Event:
        return Event(
            metric=metric,
            customer_ref=self.customer(customer_ref),
            quantity=quantity,
            ts=ts,
            meta=meta,
            resource_id=resource_id,
            idempotency_key=idempotency_key,
        )

    def coerce_event(self, item: EventLike) -> Event:
        if isinstance(item, Event):
            return item
        data = dict(item)
        if "customer_ref" not in data and "account_id" not in data:
            data["customer_ref"] = self.customer(None)
        return Event(**data)

    def key_for(self, event: Event) -> str | None:
        """The event's idempotency key: its own, or computed when the tenant is known."""
        if event.idempotency_key is not None:
            return event.idempotency_key
        if self.tenant_id is None:
            return None
        return compute_idempotency_key(
            self.tenant_id,
            event.metric,
            event.customer_ref,
            event.ts,
            event.quantity,
            event.resource_id,
            event.meta,
        )

    def event_payload(self, event: Event) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "metric": event.metric,
            "customerRef": event.customer_ref,
            "quantity": canonical_quantity(event.quantity),
            "ts": canonical_ts(event.ts),
        }
        if self.tenant_id is not None:
            payload["tenantId"] = self.tenant_id
        if event.resource_id is not None:
            payload["resourceId"] = event.resource_id
        if event.meta:
            payload["meta"] = event.meta
        if event.backfill_id is not None:
            payload["backfillId"] = event.backfill_id
        key = self.key_for(event)
        if key is not None:
            payload["idempotencyKey"] = key
        return payload

    def ingest_ops(self, events: Iterable[EventLike]) -> list[Op[IngestResult]]:
        """One op per server-sized chunk; result indexes refer to the caller's list."""
        payloads = [encode_json(self.event_payload(self.coerce_event(e))) for e in events]
        ops: list[Op[IngestResult]] = []
        start = 0
        while start < len(payloads):
            end, size = start, 0
            while end < len(payloads) and end - start < MAX_BATCH_EVENTS:
                if end > start and size + len(payloads[end]) + 1 > MAX_BATCH_BYTES:
                    break
                size += len(payloads[end]) + 1
                end += 1
            body = b'{"events":[' + b",".join(payloads[start:end]) + b"]}"
            ops.append(Op("POST", "/v1/events/ingest", _ingest_parser(start), body=body))
            start = end
        return ops

    @staticmethod
    def check_single(result: IngestResult) -> EventResult:
        """``track()``: the one result, raising :class:`EventRejectedError` if not stored."""
        item = result.results[0]
        if not item.stored:
            raise EventRejectedError(
                f"event {item.status}: {item.error_code or ''} {item.error_message or ''}".strip(),
                result=item,
            )
        return item

    # -- reads -----------------------------------------------------------------------------

    def live_op(self) -> Op[None]:
        """A node answers at all (``connect()``): fail fast at startup, not on first use."""
        return Op("GET", "/health/live", lambda _: None)

    def usage_op(self, customer_ref: object) -> Op[Usage]:
        return Op(
            "GET",
            "/v1/usage/current",
            Usage.from_json,
            params={"customerRef": self.customer(customer_ref)},
        )

    def projection_op(self, customer_ref: object, metric: str | None) -> Op[Projection]:
        body: dict[str, Any] = {"customerRef": self.customer(customer_ref)}
        if metric is not None:
            body["metric"] = metric
        return Op("POST", "/v1/usage/projection", Projection.from_json, body=encode_json(body))

    def query_op(
        self, customer_ref: object, metric: str, period: PeriodLike
    ) -> Op[UsageQueryResult]:
        start: datetime | str
        end: datetime | str
        if isinstance(period, BillingPeriod):
            start, end = period.start, period.end
        else:
            start, end = period
        body = {
            "customerRef": self.customer(customer_ref),
            "metric": metric,
            "start": canonical_ts(start),
            "end": canonical_ts(end),
        }
        return Op("POST", "/v1/usage/query", UsageQueryResult.from_json, body=encode_json(body))

    # -- metrics ---------------------------------------------------------------------------

    @staticmethod
    def _metric_path(code: str) -> str:
        return "/v1/metrics/" + quote(code, safe="")

    def metric_create_op(self, schema: MetricSchema | Mapping[str, Any]) -> Op[Metric]:
        body = schema.to_json() if isinstance(schema, MetricSchema) else dict(schema)
        return Op("POST", "/v1/metrics", Metric.from_json, body=encode_json(body))

    def metric_list_op(self) -> Op[list[Metric]]:
        def parse(data: Any) -> list[Metric]:
            items = data.get("data", []) if isinstance(data, dict) else data
            return [Metric.from_json(m) for m in items]

        return Op("GET", "/v1/metrics", parse)

    def metric_get_op(self, code: str) -> Op[Metric]:
        return Op("GET", self._metric_path(code), Metric.from_json)

    def metric_update_op(self, code: str, changes: MetricSchema | Mapping[str, Any]) -> Op[Metric]:
        if isinstance(changes, MetricSchema):
            body = changes.to_json()
            body.pop("code", None)
        else:
            body = dict(changes)
        return Op("PATCH", self._metric_path(code), Metric.from_json, body=encode_json(body))

    def metric_delete_op(self, code: str) -> Op[None]:
        return Op("DELETE", self._metric_path(code), lambda _data: None)


def _ingest_parser(offset: int) -> Callable[[Any], IngestResult]:
    def parse(data: Any) -> IngestResult:
        return IngestResult.from_json(data, index_offset=offset)

    return parse


def build_timeout(
    timeout: float | httpx.Timeout | None, connect_timeout: float | None
) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    total = 10.0 if timeout is None else timeout
    return httpx.Timeout(total, connect=connect_timeout if connect_timeout is not None else total)
