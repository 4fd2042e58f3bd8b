"""Where an error's `doc_url` points, by code: only to pages Stripe publishes.

Stripe's general codes each have an anchor on its error-codes page; the meter-event codes
are documented with usage recording, not there, so they point at that guide. A code Stripe
documents nowhere (the emulator's own) gets no `doc_url` rather than a dead link.
"""

from __future__ import annotations

ERROR_CODES_PAGE = "https://docs.stripe.com/error-codes"
USAGE_RECORDING_PAGE = (
    "https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-api"
)

# Codes listed on Stripe's error-codes page (its anchors are the code itself).
GENERAL_CODES = frozenset(
    {
        "idempotency_key_in_use",
        "invoice_not_editable",
        "parameter_invalid_empty",
        "parameter_invalid_integer",
        "parameter_invalid_string_blank",
        "parameter_invalid_string_empty",
        "parameter_missing",
        "parameter_unknown",
        "parameters_exclusive",
        "rate_limit",
        "resource_already_exists",
        "resource_missing",
        "url_invalid",
        "lock_timeout",
        "api_key_expired",
        "invoice_no_customer_line_items",
        "invoice_no_subscription_line_items",
        "invoice_upcoming_none",
        "customer_max_subscriptions",
    }
)
# Meter-event and meter-event-adjustment codes, explained in the usage-recording guide.
METER_CODES = frozenset(
    {
        "archived_meter",
        "duplicate_meter_event",
        "meter_event_adjustment_too_late",
        "meter_event_already_cancelled",
        "meter_event_customer_not_found",
        "meter_event_invalid_value",
        "meter_event_no_customer_defined",
        "meter_event_value_not_found",
        "no_meter",
        "timestamp_in_future",
        "timestamp_too_far_in_past",
        "billing_meter_event_session_expired",
    }
)


def doc_url(code: str) -> str | None:
    """The page that explains `code`, or None when Stripe documents it nowhere."""
    if code in GENERAL_CODES:
        return f"{ERROR_CODES_PAGE}#{code.replace('_', '-')}"
    if code in METER_CODES:
        return USAGE_RECORDING_PAGE
    return None
