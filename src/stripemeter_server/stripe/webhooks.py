"""Verifying Stripe's webhook signatures with the library, then parsing the body bounded.

The secrets are passed in on every call (the tenant's current one and, during a rotation's
grace, the previous one): nothing here caches a secret, so a rotation takes effect at once
on every process (ADR 0701).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import stripe

from stripemeter_server.domain.errors import WebhookEventError, WebhookSignatureError

MAX_WEBHOOK_DEPTH = 64


def verify_stripe_signature(
    payload: bytes, signature_header: str | None, secrets: Sequence[str]
) -> dict[str, Any]:
    """The event once its signature verifies with one of ``secrets``; a body that verifies
    but is not a bounded JSON object (bad UTF-8, nested past ``MAX_WEBHOOK_DEPTH``) is a
    ``WebhookEventError`` (400), never a 500."""
    if not secrets:
        raise WebhookSignatureError(
            "no webhook signing secret is configured for this "
            "tenant (PUT /v1/stripe/account webhookSecret)"
        )
    if not signature_header:
        raise WebhookSignatureError("the Stripe-Signature header is missing")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookEventError("the webhook body is not UTF-8", field="body") from None
    if not any(_verifies(text, signature_header, secret) for secret in secrets):
        raise WebhookSignatureError("the Stripe-Signature does not verify")
    if _depth(text) > MAX_WEBHOOK_DEPTH:
        raise WebhookEventError(
            f"the webhook body nests deeper than {MAX_WEBHOOK_DEPTH} levels", field="body"
        )
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):
        raise WebhookEventError("the webhook body is not JSON", field="body") from None
    if not isinstance(event, dict):
        raise WebhookEventError("the webhook body is not a JSON object", field="body")
    return event


def _verifies(text: str, header: str, secret: str) -> bool:
    try:
        return bool(
            stripe.WebhookSignature.verify_header(
                text, header, secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        )
    except stripe.SignatureVerificationError:
        return False


def _depth(text: str) -> int:
    """The deepest nesting of brackets outside strings (a bound checked before parsing, so
    a deep body costs no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
