"""Stripe-shaped errors: one exception type rendered as the v1 or v2 error envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The code a v2 error gets when its raise site names none (v2 errors always have one).
V2_DEFAULT_CODES = {400: "invalid_request", 401: "unauthorized", 404: "not_found",
                    409: "conflict", 429: "rate_limit", 500: "internal_error"}


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
        if not v2 and self.code is not None:
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": err}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    """400 invalid_request_error, the most common Stripe error."""
    return StripeError(400, message, code=code, param=param)


def missing_param(param: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def not_found(kind: str, ident: str, *, param: str = "id") -> StripeError:
    return StripeError(
        404, f"No such {kind}: '{ident}'", code="resource_missing", param=param
    )
