"""Stripe-shaped errors: one exception type rendered as the v1 or v2 error envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stripe_emulator.doc_urls import doc_url

# The code a v2 error gets when its raise site names none (v2 errors always have one).
V2_DEFAULT_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    409: "conflict",
    429: "rate_limit",
    500: "internal_error",
}


@dataclass
class StripeError(Exception):
    """An API error; the dispatcher renders it with Stripe's envelope and headers."""

    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self, *, v2: bool = False) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        code = self.code
        if code is None and v2:  # every v2 error carries a code
            code = V2_DEFAULT_CODES.get(self.status, "api_error")
        if code is not None:
            err["code"] = code
        if self.param is not None:
            err["param"] = self.param
        url = doc_url(self.code) if self.code is not None and not v2 else None
        if url is not None:
            err["doc_url"] = url
        return {"error": err}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    """400 invalid_request_error, the most common Stripe error."""
    return StripeError(400, message, code=code, param=param)


def missing_param(param: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def not_found(kind: str, ident: str, *, param: str = "id") -> StripeError:
    """Stripe answers 404 for a missing object named in the URL (`param="id"`) and 400
    for one named by a request parameter (`customer=cus_missing`)."""
    status = 404 if param == "id" else 400
    return StripeError(status, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def invalid_integer(param: str, value: object) -> StripeError:
    return StripeError(
        400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
    )
