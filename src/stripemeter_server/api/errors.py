"""The one table that maps errors to HTTP statuses, and RFC 9457 problem responses."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stripemeter_server.domain.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RetryableConflict,
    StripeCallError,
    StripemeterError,
    StripeRetryableError,
    UnauthorizedError,
    UnavailableError,
    ValidationError,
    WebhookEventError,
    WebhookSignatureError,
)

log = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[StripemeterError], int], ...] = (
    (ValidationError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ForbiddenError, 403),
    (UnauthorizedError, 401),
    (PayloadTooLargeError, 413),
    (RateLimitedError, 429),
    (UnavailableError, 503),
    (RetryableConflict, 503),
    (WebhookSignatureError, 400),
    (WebhookEventError, 400),
    # Stripe could not be reached or refused: the gateway's fault, not the client's.
    (StripeRetryableError, 503),
    (StripeCallError, 502),
)

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ProblemResponse(JSONResponse):
    """``application/problem+json``, ASCII-escaped: a detail that echoes client text (even
    an unpaired surrogate) always encodes."""

    media_type = "application/problem+json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def status_for(error: StripemeterError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 500


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    request: Request | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": f"https://stripemeter.dev/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if request is not None and getattr(request.state, "request_id", None):
        body["requestId"] = request.state.request_id
    return ProblemResponse(body, status_code=status, headers=headers)


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StripemeterError)
    status = status_for(exc)
    if isinstance(exc, StripeCallError):
        _log_stripe_failure(request, exc)
    errors = [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else None
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    elif status == 503:
        headers = {"Retry-After": "1"}
    return problem(status, exc.code, exc.message, request=request, errors=errors, headers=headers)


def _log_stripe_failure(request: Request, exc: StripeCallError) -> None:
    """What Stripe (or whatever answered) said goes to the log with the request id; the
    client gets the generic problem only."""
    log.warning(
        "stripe call failed: %s (%s, HTTP %s): %s",
        exc.code,
        exc.stripe_code,
        exc.http_status,
        exc.log_detail or exc.message,
        extra={"requestId": getattr(request.state, "request_id", None)},
    )


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for item in exc.errors():
        location = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append(
            {
                "field": ".".join(location) or None,
                "code": item.get("type", "invalid"),
                "message": item.get("msg", "invalid"),
            }
        )
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return problem(422, "invalid_request", detail, request=request, errors=errors)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = TITLES.get(exc.status_code, "error").lower().replace(" ", "_")
    return problem(
        exc.status_code,
        code,
        str(exc.detail),
        request=request,
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StripemeterError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
