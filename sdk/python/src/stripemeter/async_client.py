"""The asynchronous client, :class:`AsyncClient` (same surface as the sync client)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx

from ._calls import Retry
from ._core import ClientCore, EventLike, Op, PeriodLike, build_timeout
from .buffer import DropCallback, EventBuffer, RejectCallback
from .client import sync_call
from .entitlements import AsyncEntitlements
from .idempotency import Quantity, Timestamp
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
from .periods import BillingPeriod, current_billing_period, last_billing_period
from .portal import AsyncPortal
from .retry import RetryPolicy

T = TypeVar("T")

__all__ = ["AsyncClient", "AsyncEventBuffer", "AsyncMetrics"]


class AsyncClient:
    """Asynchronous stripemeter client; the same arguments and methods as
    :class:`~stripemeter.StripeMeterClient`, as coroutines.

    ``transport`` is an ``httpx.AsyncBaseTransport``; ``sleep`` an async callable.
    ``sync_transport`` is only used by :meth:`buffer`, whose sender runs in a thread.
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
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        sync_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._core = ClientCore(api_url, api_key, tenant_id, customer_id, retry)
        self._timeout = build_timeout(timeout, connect_timeout)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self._timeout, transport=transport)
        self._sleep = sleep
        self._sync_transport = sync_transport
        self._buffers: list[AsyncEventBuffer] = []
        self.metrics = AsyncMetrics(self)
        self.portal = AsyncPortal(self)
        self.entitlements = AsyncEntitlements(self)

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

    async def _call(self, op: Op[T]) -> T:
        state = self._core.start_call()
        headers = self._core.headers()
        while True:
            url = state.next_node() + op.path
            try:
                response = await self._http.request(
                    op.method, url, content=op.body, params=op.params, headers=headers
                )
            except httpx.TransportError as exc:
                outcome: Any = state.on_transport_error(exc)
            else:
                outcome = state.on_response(response)
            if isinstance(outcome, Retry):
                if outcome.delay > 0:
                    await self._sleep(outcome.delay)
                continue
            return op.parse(outcome)

    async def connect(self) -> None:
        """Check that a node answers (Unimeter's startup calls it); raises if none does."""
        await self._call(self._core.live_op())

    # -- events ----------------------------------------------------------------------------

    async def track(
        self,
        metric: str,
        customer_ref: object = None,
        quantity: Quantity = 1,
        ts: Timestamp | None = None,
        meta: Mapping[str, Any] | None = None,
        resource_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> EventResult:
        """Record one event now; see :meth:`StripeMeterClient.track`."""
        event = self._core.make_event(
            metric, customer_ref, quantity, ts, meta, resource_id, idempotency_key
        )
        return self._core.check_single(await self.ingest([event]))

    async def track_batch(self, events: Iterable[EventLike]) -> IngestResult:
        return await self.ingest(events)

    async def ingest(self, events: Iterable[EventLike]) -> IngestResult:
        return IngestResult.merge([await self._call(op) for op in self._core.ingest_ops(events)])

    # -- reads -----------------------------------------------------------------------------

    async def get_usage(self, customer_ref: object = None) -> Usage:
        return await self._call(self._core.usage_op(customer_ref))

    async def get_projection(
        self, customer_ref: object = None, metric: str | None = None
    ) -> Projection:
        return await self._call(self._core.projection_op(customer_ref, metric))

    async def query(
        self, customer_ref: object, metric: str, period: PeriodLike
    ) -> UsageQueryResult:
        return await self._call(self._core.query_op(customer_ref, metric, period))

    @staticmethod
    def current_billing_period(anchor_day: int = 1) -> BillingPeriod:
        return current_billing_period(anchor_day)

    @staticmethod
    def last_billing_period(anchor_day: int = 1) -> BillingPeriod:
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
    ) -> AsyncEventBuffer:
        """A background batcher; same policy as the sync :class:`EventBuffer`. Its sender
        is a thread with its own (sync) connection pool, so ``atexit`` can still flush it
        after the event loop is gone."""
        import time

        http = httpx.Client(timeout=self._timeout, transport=self._sync_transport)
        core = self._core

        def send(events: list[Event]) -> IngestResult:
            return IngestResult.merge(
                [sync_call(core, http, time.sleep, op) for op in core.ingest_ops(events)]
            )

        inner = EventBuffer(
            core,
            send,
            max_events=max_events,
            max_interval=max_interval,
            max_buffered=max_buffered,
            on_full=on_full,
            block_timeout=block_timeout,
            on_drop=on_drop,
            on_rejected=on_rejected,
            close_timeout=close_timeout,
        )
        buf = AsyncEventBuffer(inner, http)
        self._buffers.append(buf)
        return buf

    # -- lifecycle -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Flush and close every buffer, then close the HTTP connections."""
        try:
            for buf in self._buffers:
                await buf.aclose()
        finally:
            if self._owns_http:
                await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncEventBuffer:
    """Async face of :class:`EventBuffer`: ``await buf.track(...)``, ``await buf.aclose()``.

    ``track`` never blocks the event loop: when the buffer is full under policy ``"block"``
    the wait happens in a worker thread.
    """

    def __init__(self, inner: EventBuffer, http: httpx.Client) -> None:
        self._inner = inner
        self._http = http

    @property
    def buffer(self) -> EventBuffer:
        """The underlying thread-based buffer (``stats``, ``undelivered``, ``rejected``)."""
        return self._inner

    @property
    def pending(self) -> int:
        return self._inner.pending

    async def track(
        self,
        metric: str,
        customer_ref: object = None,
        quantity: Quantity = 1,
        ts: Timestamp | None = None,
        meta: Mapping[str, Any] | None = None,
        resource_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> bool:
        event = self._inner._core.make_event(
            metric, customer_ref, quantity, ts, meta, resource_id, idempotency_key
        )
        return await self.add(event)

    async def add(self, event: Event) -> bool:
        from .errors import BufferFullError

        try:
            return self._inner.add(event, block=False)
        except BufferFullError:
            return await asyncio.to_thread(self._inner.add, event)

    async def flush(self, timeout: float | None = None) -> bool:
        return await asyncio.to_thread(self._inner.flush, timeout)

    async def aclose(self, timeout: float | None = None) -> None:
        try:
            await asyncio.to_thread(self._inner.close, timeout)
        finally:
            self._http.close()

    async def __aenter__(self) -> AsyncEventBuffer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncMetrics:
    """``client.metrics`` of :class:`AsyncClient`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self, schema: MetricSchema | Mapping[str, Any]) -> Metric:
        return await self._client._call(self._client._core.metric_create_op(schema))

    async def list(self) -> list[Metric]:
        return await self._client._call(self._client._core.metric_list_op())

    async def get(self, code: str) -> Metric:
        return await self._client._call(self._client._core.metric_get_op(code))

    async def update(self, code: str, changes: MetricSchema | Mapping[str, Any]) -> Metric:
        return await self._client._call(self._client._core.metric_update_op(code, changes))

    async def delete(self, code: str) -> None:
        await self._client._call(self._client._core.metric_delete_op(code))
