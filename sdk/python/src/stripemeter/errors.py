"""Exceptions raised by the stripemeter SDK.

Every exception the SDK raises on purpose derives from :class:`StripeMeterError`::

    StripeMeterError
    ├── ConfigurationError            bad or missing client settings (no API key, no URL, …)
    ├── APIConnectionError            no node answered (network errors / timeouts) after retries
    │   └── APITimeoutError           … and the last failure was a timeout
    ├── APIError                      the server answered with an HTTP error (problem details)
    │   ├── BadRequestError           400 / 422 — the request itself is invalid (never retried)
    │   ├── AuthenticationError       401 — missing or unknown API key
    │   ├── PermissionDeniedError     403 — key lacks the scope, or tenantId differs from the key's
    │   ├── NotFoundError             404
    │   ├── ConflictError             409 — e.g. ``metric_exists`` (a different definition)
    │   ├── PayloadTooLargeError      413
    │   ├── RateLimitError            429 — still rate limited after all retries
    │   └── ServerError               5xx — still failing after all retries
    │       └── ServiceUnavailableError  503 — the server's store is unavailable
    ├── EventRejectedError            ``track()``: the server rejected the event (or a conflict)
    └── BufferingError                buffered mode
        ├── BufferClosedError         ``track()`` on a buffer that was closed
        ├── BufferFullError           ``on_full="block"`` and ``block_timeout`` elapsed
        └── BufferFlushError          ``close()`` could not deliver every accepted event

``ValueError``/``TypeError`` are raised (before any network traffic) for arguments the SDK
can check locally: a quantity that is not a finite decimal, a naive ``meta`` value that is
not JSON, an empty metric code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Event, EventResult

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BufferClosedError",
    "BufferFlushError",
    "BufferFullError",
    "BufferingError",
    "ConfigurationError",
    "ConflictError",
    "EventRejectedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ServiceUnavailableError",
    "StripeMeterError",
]


class StripeMeterError(Exception):
    """Base class of every error raised by the SDK."""


class ConfigurationError(StripeMeterError):
    """The client was configured incorrectly (no API key, no node URL, …)."""


class APIConnectionError(StripeMeterError):
    """No node could be reached (connection refused, reset, timeout) within the retry budget."""

    def __init__(self, message: str, *, attempts: int = 0) -> None:
        super().__init__(message)
        self.attempts = attempts


class APITimeoutError(APIConnectionError):
    """Like :class:`APIConnectionError`, the last failure being a timeout."""


class APIError(StripeMeterError):
    """The server answered with an HTTP error status.

    The RFC 9457 problem body is exposed as attributes: ``status``, ``code``, ``title``,
    ``detail``, ``errors`` (field errors), ``request_id`` and the raw ``body``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after


class BadRequestError(APIError):
    """400 or 422: the request is invalid. Never retried."""


class AuthenticationError(APIError):
    """401: the API key is missing or unknown."""


class PermissionDeniedError(APIError):
    """403: the key lacks a scope, or a tenantId differs from the key's tenant."""


class NotFoundError(APIError):
    """404: no such resource (e.g. an unknown metric code)."""


class ConflictError(APIError):
    """409: e.g. ``metric_exists`` when creating a metric with a different definition."""


class PayloadTooLargeError(APIError):
    """413: the body is larger than the server accepts."""


class RateLimitError(APIError):
    """429 after every retry (each one honoured ``Retry-After``)."""


class ServerError(APIError):
    """5xx after every retry."""


class ServiceUnavailableError(ServerError):
    """503 after every retry: the server's database is unavailable."""


class EventRejectedError(StripeMeterError):
    """``track()`` only: the server answered, but did not store the event.

    ``result`` is the per-event :class:`~stripemeter.EventResult` (status ``rejected`` or
    ``conflict``, with ``error_code`` and ``error_message``).
    """

    def __init__(self, message: str, *, result: EventResult) -> None:
        super().__init__(message)
        self.result = result


class BufferingError(StripeMeterError):
    """Base class of buffered-mode errors."""


class BufferClosedError(BufferingError):
    """An event was offered to a buffer after ``close()``."""


class BufferFullError(BufferingError):
    """The buffer stayed full for longer than ``block_timeout`` (policy ``"block"``)."""


class BufferFlushError(BufferingError):
    """``close()`` could not deliver some accepted events and no callback took them.

    ``undelivered`` lists the events that were never stored (server unreachable until the
    close timeout); ``rejected`` lists the server's per-event results for events it refused.
    """

    def __init__(
        self,
        message: str,
        *,
        undelivered: Sequence[Event] = (),
        rejected: Sequence[EventResult] = (),
    ) -> None:
        super().__init__(message)
        self.undelivered = list(undelivered)
        self.rejected = list(rejected)


_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: BadRequestError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_class_for_status(status: int) -> type[APIError]:
    """The :class:`APIError` subclass for an HTTP status."""
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status]
    if status >= 500:
        return ServerError
    if 400 <= status < 500:
        return BadRequestError
    return APIError
