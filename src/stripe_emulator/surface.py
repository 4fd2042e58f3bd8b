"""Registers the billing surface beyond metering, one module per resource family."""

from __future__ import annotations

from stripe_emulator import (
    alerts,
    credit_notes,
    customer_balance,
    event_destinations,
    invoice_ops,
    previews,
    sub_changes,
    test_clocks,
)
from stripe_emulator import credits as billing_credits
from stripe_emulator.routing import Router


def register(router: Router) -> None:
    for module in (
        test_clocks,
        sub_changes,
        billing_credits,
        customer_balance,
        credit_notes,
        invoice_ops,
        alerts,
        event_destinations,
    ):
        module.register(router)
    # `POST /v1/invoices/create_preview` must win over `POST /v1/invoices/{id}`, which
    # was registered first: routes match in order, so the literal one goes to the front.
    previews.register(router)
    router.routes.insert(0, router.routes.pop())


def register_control(router: Router) -> None:
    """Control-surface routes of the billing surface (not part of Stripe's API)."""
    invoice_ops.register_control(router)
