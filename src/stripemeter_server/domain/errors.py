"""Errors of the domain and service layers.

Every error carries a stable snake_case ``code`` that clients can branch on; the API maps
error classes to HTTP statuses in exactly one table (``api/errors.py``).

    StripemeterError
    ├── ValidationError          (422) a request or field is malformed
    │   └── EventRejected        one event of a batch is invalid (reported per event)
    ├── NotFoundError            (404)
    ├── ConflictError            (409) the request contradicts stored state
    ├── ForbiddenError           (403) the key may not do this / other tenant
    ├── UnauthorizedError        (401)
    ├── PayloadTooLargeError     (413)
    ├── RateLimitedError         (429)
    ├── UnavailableError         (503) the store cannot be reached
    ├── RetryableConflict        (503) the store aborted a transaction to resolve contention;
    │                            the use-case runner retries the whole transaction
    ├── WebhookSignatureError    (400) a Stripe webhook's signature does not verify
    ├── WebhookEventError        (400) a signed webhook body that cannot be taken
    └── StripeCallError          (502) a call to Stripe failed (translated by stripe/gateway.py)
        ├── StripeRetryableError     5xx, timeouts, lost connections, lock contention
        │   └── StripeRateLimitedError   429: slow down, then retry
        └── StripePermanentError     Stripe refused the request; retrying the same call
                                     cannot succeed (no meter, unknown customer, too old)
"""

from __future__ import annotations


class StripemeterError(Exception):
    """Base of every error the service raises on purpose."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


class ValidationError(StripemeterError):
    code = "invalid_request"


class EventRejected(ValidationError):
    """One event of a batch is invalid; the rest of the batch goes on."""

    code = "invalid_event"


class NotFoundError(StripemeterError):
    code = "not_found"


class ConflictError(StripemeterError):
    code = "conflict"


class ForbiddenError(StripemeterError):
    code = "forbidden"


class UnauthorizedError(StripemeterError):
    code = "unauthorized"


class PayloadTooLargeError(StripemeterError):
    code = "payload_too_large"


class RateLimitedError(StripemeterError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class UnavailableError(StripemeterError):
    code = "unavailable"


class RetryableConflict(StripemeterError):
    """The database aborted the transaction to resolve contention (a deadlock, a
    serialization failure, a busy SQLite file); running it again from the start is safe."""

    code = "retryable_conflict"


class WebhookSignatureError(StripemeterError):
    """A webhook that cannot be shown to come from Stripe (bad, stale or missing signature,
    or no signing secret to check it with): Stripe is told 400, nothing is recorded."""

    code = "invalid_signature"


class WebhookEventError(StripemeterError):
    """A webhook whose signature verifies but whose body cannot be taken (not UTF-8, nested
    too deep, an id holding NUL or an unpaired surrogate): 400, nothing recorded."""

    code = "invalid_webhook_event"


class StripeCallError(StripemeterError):
    """A call to Stripe failed. ``stripe_code`` is Stripe's own error code, if any;
    ``log_detail`` is what the upstream said, for the log only (never shown to a client:
    an upstream body may hold anything)."""

    code = "stripe_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        stripe_code: str | None = None,
        http_status: int | None = None,
        log_detail: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.stripe_code = stripe_code
        self.http_status = http_status
        self.log_detail = log_detail


class StripeRetryableError(StripeCallError):
    code = "stripe_unavailable"


class StripeRateLimitedError(StripeRetryableError):
    code = "stripe_rate_limited"


class StripePermanentError(StripeCallError):
    code = "stripe_refused"
