"""Python SDK for stripemeter, the usage-metering service for Stripe billing.

Quick start::

    from stripemeter import StripeMeterClient

    with StripeMeterClient("http://127.0.0.1:3000", api_key="…", tenant_id="default") as client:
        client.track("api_calls", "cus_ABC123", quantity=100)
        print(client.get_usage("cus_ABC123"))
"""

from ._core import __version__
from .async_client import AsyncClient, AsyncEventBuffer, AsyncMetrics
from .buffer import BufferStats, EventBuffer
from .client import Metrics, StripeMeterClient
from .entitlements import AsyncEntitlements, EntitlementCheck, Entitlements, Reservation
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BufferClosedError,
    BufferFlushError,
    BufferFullError,
    BufferingError,
    ConfigurationError,
    ConflictError,
    EventRejectedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    StripeMeterError,
)
from .idempotency import canonical_quantity, canonical_ts, compute_idempotency_key
from .models import (
    AggregateValues,
    AggType,
    Event,
    EventResult,
    IngestResult,
    Metric,
    MetricSchema,
    MetricUsage,
    PeriodType,
    Projection,
    Usage,
    UsageQueryResult,
)
from .periods import BillingPeriod, current_billing_period, last_billing_period
from .portal import AsyncPortal, Portal, PortalToken
from .retry import RetryPolicy

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AggType",
    "AggregateValues",
    "AsyncClient",
    "AsyncEntitlements",
    "AsyncEventBuffer",
    "AsyncMetrics",
    "AsyncPortal",
    "AuthenticationError",
    "BadRequestError",
    "BillingPeriod",
    "BufferClosedError",
    "BufferFlushError",
    "BufferFullError",
    "BufferStats",
    "BufferingError",
    "ConfigurationError",
    "ConflictError",
    "EntitlementCheck",
    "Entitlements",
    "Event",
    "EventBuffer",
    "EventRejectedError",
    "EventResult",
    "IngestResult",
    "Metric",
    "MetricSchema",
    "MetricUsage",
    "Metrics",
    "NotFoundError",
    "PayloadTooLargeError",
    "PeriodType",
    "PermissionDeniedError",
    "Portal",
    "PortalToken",
    "Projection",
    "RateLimitError",
    "Reservation",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "StripeMeterClient",
    "StripeMeterError",
    "Usage",
    "UsageQueryResult",
    "__version__",
    "canonical_quantity",
    "canonical_ts",
    "compute_idempotency_key",
    "current_billing_period",
    "last_billing_period",
]
