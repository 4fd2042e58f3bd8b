"""Library errors as the port's errors: retryable, rate-limited or permanent.

Kept apart from the gateway so the rule lives in one place: every call of every adapter
module goes through ``translated_errors`` (a test walks every error class the library
defines), and an answer of the wrong shape is a ``StripeCallError``, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from stripemeter_server.outbound.pinned import BlockedDestination
from stripemeter_server.service.ports.stripe import (
    StripeCallError,
    StripePermanentError,
    StripeRateLimitedError,
    StripeRetryableError,
)


def _translate(exc: stripe.StripeError) -> StripeCallError:
    """The project's error for a library error. The message a client sees is Stripe's own
    error message when the answer was a Stripe error object, else a generic one: an
    upstream body is never echoed (it may come from anywhere); it goes to ``log_detail``,
    which the API logs with the request id."""
    status = exc.http_status
    code = exc.code
    detail = f"{exc.__class__.__name__}: {exc.user_message or ''}"[:2000]
    blocked = isinstance(exc.__cause__, BlockedDestination)
    if blocked:
        return StripePermanentError(
            "Stripe: the account's API host may not be reached from "
            "this server (STRIPEMETER_STRIPE_API_HOSTS)",
            code="stripe_host_blocked",
            stripe_code="stripe_host_blocked",
            log_detail=str(exc.__cause__),
        )
    message = f"Stripe: {_safe_message(exc, status)}"[:500]
    kind: type[StripeCallError] = StripePermanentError
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        kind = StripeRateLimitedError
    elif (
        isinstance(exc, stripe.APIConnectionError)
        or status is None
        or status >= 500
        or status == 409
        or code == "idempotency_key_in_use"
    ):
        kind = StripeRetryableError
    return kind(message, stripe_code=code, http_status=status, log_detail=detail)


def _safe_message(exc: stripe.StripeError, status: int | None) -> str:
    error = exc.error
    text = getattr(error, "message", None) if error is not None else None
    if isinstance(text, str) and text and getattr(error, "type", None):
        return text  # Stripe's own error object: its message is meant for API users
    if isinstance(exc, stripe.APIConnectionError):
        return "the API could not be reached"
    return f"unexpected answer (HTTP {status})" if status else exc.__class__.__name__


def _bad_shape(exc: Exception) -> StripeCallError:
    return StripeCallError(
        "Stripe: the answer did not have the expected shape",
        code="stripe_bad_response",
        log_detail=f"{exc.__class__.__name__}: {exc}"[:2000],
    )


@contextmanager
def translated_errors() -> Iterator[None]:
    """Library errors, and answers of an unexpected shape (a ``200 {}`` where a list was
    due), as the project's Stripe errors: never a 500."""
    try:
        yield
    except stripe.StripeError as exc:
        raise _translate(exc) from None
    except (AttributeError, KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
        raise _bad_shape(exc) from None
