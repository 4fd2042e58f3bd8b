"""The synchronous client, :class:`StripeMeterClient`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from ._calls import Retry
from ._core import ClientCore, EventLike, Op, PeriodLike, build_timeout
from .entitlements import Entitlements
from .idempotency import Quantity, Timestamp
from .models import (
    EventResult,
    IngestResult,
    Metric,
    MetricSchema,
    Projection,
    Usage,
    UsageQueryResult,
)
from .periods import BillingPeriod, current_billing_period, last_billing_period
from .portal import Portal
from .retry import RetryPolicy

if TYPE_CHECKING:
    from .buffer import DropCallback, EventBuffer, RejectCallback

T = TypeVar("T")

__all__ = ["Metrics", "StripeMeterClient"]


def sync_call(core: ClientCore, http: httpx.Client, sleep: Callable[[float], None], op: Op[T]) -> T:
    """Run one op with retries and failover (the I/O half of :class:`CallState`)."""
    state = core.start_call()
    headers = core.headers()
    while True:
        url = state.next_node() + op.path
        try:
            response = http.request(
                op.method, url, content=op.body, params=op.params, headers=headers
            )
        except httpx.TransportError as exc:
            outcome: Any = state.on_transport_error(exc)
        else:
            outcome = state.on_response(response)
        if isinstance(outcome, Retry):
            if outcome.delay > 0:
                sleep(outcome.delay)
            continue
        return op.parse(outcome)


class StripeMeterClient:
    """Synchronous stripemeter client.

    ``api_url`` is one base URL, a comma-separated list, or a sequence of node URLs (default:
    ``STRIPEMETER_URL``, else ``http://127.0.0.1:3000``). ``api_key`` defaults to
    ``STRIPEMETER_API_KEY``; ``tenant_id`` to ``STRIPEMETER_TENANT``. With a tenant the SDK
    computes every event's idempotency key itself; without one it sends ``ts`` and lets the
    server derive the same key. ``customer_id`` is the default ``customer_ref``.

    ``transport`` (an ``httpx.BaseTransport``) or a whole ``http_client`` may be injected;
    ``sleep`` is what retries wait with.
    """

    def __init__(
        self,
        api_url: str | Sequence[str] | None = None,
        api_key: str | None = None,
        tenant_id: str | None = None,
        customer_id: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = 10.0,
        connect_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._core = ClientCore(api_url, api_key, tenant_id, customer_id, retry)
        self._timeout = build_timeout(timeout, connect_timeout)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self._timeout, transport=transport)
        self._sleep = sleep
        self._buffers: list[EventBuffer] = []
        self.metrics = Metrics(self)
        self.portal = Portal(self)
        self.entitlements = Entitlements(self)

    # -- configuration ---------------------------------------------------------------------

    @property
    def tenant_id(self) -> str | None:
        return self._core.tenant_id

    @property
    def customer_id(self) -> str | None:
        return self._core.customer_id

    @property
    def nodes(self) -> list[str]:
        return list(self._core.nodes.urls)

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._core.retry

    # -- transport loop --------------------------------------------------------------------

    def _call(self, op: Op[T]) -> T:
        return sync_call(self._core, self._http, self._sleep, op)

    # -- events ----------------------------------------------------------------------------

    def track(
        self,
        metric: str,
        customer_ref: object = None,
        quantity: Quantity = 1,
        ts: Timestamp | None = None,
        meta: Mapping[str, Any] | None = None,
        resource_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> EventResult:
        """Record one event now; returns its result (``accepted`` or ``duplicate``).

        Raises :class:`~stripemeter.errors.EventRejectedError` if the server refused it.
        """
        event = self._core.make_event(
            metric, customer_ref, quantity, ts, meta, resource_id, idempotency_key
        )
        return self._core.check_single(self.ingest([event]))

    def track_batch(self, events: Iterable[EventLike]) -> IngestResult:
        """Record many events (``Event`` objects or dicts of ``track()`` arguments)."""
        return self.ingest(events)

    def ingest(self, events: Iterable[EventLike]) -> IngestResult:
        """Send events (split into server-sized batches); per-event results in order."""
        return IngestResult.merge([self._call(op) for op in self._core.ingest_ops(events)])

    # -- reads -----------------------------------------------------------------------------

    def get_usage(self, customer_ref: object = None) -> Usage:
        """Live totals of every metric for the customer's current period."""
        return self._call(self._core.usage_op(customer_ref))

    def get_projection(self, customer_ref: object = None, metric: str | None = None) -> Projection:
        """Projected quantity and cost at the end of the customer's current period."""
        return self._call(self._core.projection_op(customer_ref, metric))

    def query(self, customer_ref: object, metric: str, period: PeriodLike) -> UsageQueryResult:
        """All aggregate values of ``metric`` for the customer over ``[start, end)``."""
        return self._call(self._core.query_op(customer_ref, metric, period))

    @staticmethod
    def current_billing_period(anchor_day: int = 1) -> BillingPeriod:
        """The monthly period anchored on ``anchor_day`` that contains now (UTC)."""
        return current_billing_period(anchor_day)

    @staticmethod
    def last_billing_period(anchor_day: int = 1) -> BillingPeriod:
        """The monthly period before the current one."""
        return last_billing_period(anchor_day)

    # -- buffered mode ---------------------------------------------------------------------

    def buffer(
        self,
        max_events: int = 500,
        max_interval: float = 1.0,
        *,
        max_buffered: int = 10_000,
        on_full: Literal["block", "drop"] = "block",
        block_timeout: float | None = None,
        on_drop: DropCallback | None = None,
        on_rejected: RejectCallback | None = None,
        close_timeout: float = 30.0,
    ) -> EventBuffer:
        """A background batcher sending through this client. See :class:`EventBuffer`."""
        from .buffer import EventBuffer

        buf = EventBuffer(
            self._core,
            self.ingest,
            max_events=max_events,
            max_interval=max_interval,
            max_buffered=max_buffered,
            on_full=on_full,
            block_timeout=block_timeout,
            on_drop=on_drop,
            on_rejected=on_rejected,
            close_timeout=close_timeout,
        )
        self._buffers.append(buf)
        return buf

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Flush and close every buffer of this client, then close the HTTP connections."""
        try:
            for buf in self._buffers:
                buf.close()
        finally:
            if self._owns_http:
                self._http.close()

    def __enter__(self) -> StripeMeterClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Metrics:
    """``client.metrics``: metric definitions."""

    def __init__(self, client: StripeMeterClient) -> None:
        self._client = client

    def create(self, schema: MetricSchema | Mapping[str, Any]) -> Metric:
        """Create a metric; an identical existing definition is fine (returned as is)."""
        return self._client._call(self._client._core.metric_create_op(schema))

    def list(self) -> list[Metric]:
        return self._client._call(self._client._core.metric_list_op())

    def get(self, code: str) -> Metric:
        return self._client._call(self._client._core.metric_get_op(code))

    def update(self, code: str, changes: MetricSchema | Mapping[str, Any]) -> Metric:
        """PATCH a metric (a ``MetricSchema`` or a dict of camelCase fields)."""
        return self._client._call(self._client._core.metric_update_op(code, changes))

    def delete(self, code: str) -> None:
        self._client._call(self._client._core.metric_delete_op(code))
