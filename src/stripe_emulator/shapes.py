"""Default field values, so every object carries all the fields Stripe always returns
(required ones per the API reference, nullable ones as null) even where the emulator
models nothing behind them (taxes, discounts, payment settings, …)."""

from __future__ import annotations

from typing import Any


def customer_fields() -> dict[str, Any]:
    return {
        "address": None,
        "balance": 0,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": None,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def product_fields() -> dict[str, Any]:
    return {
        "default_price": None,
        "description": None,
        "images": [],
        "marketing_features": [],
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "tax_details": None,
        "type": "service",
        "unit_label": None,
        "url": None,
    }


def price_fields() -> dict[str, Any]:
    return {
        "billing_scheme": "per_unit",
        "custom_unit_amount": None,
        "lookup_key": None,
        "nickname": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
    }


def invoice_fields() -> dict[str, Any]:
    return {
        "account_country": "US",
        "account_name": "Stripe emulator",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_paid_off_stripe": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "confirmation_secret": None,
        "custom_fields": None,
        "customer_address": None,
        "customer_email": None,
        "customer_name": None,
        "customer_phone": None,
        "customer_account": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "next_payment_attempt": None,
        "on_behalf_of": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "subtotal_excluding_tax": 0,
        "test_clock": None,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }


def line_fields() -> dict[str, Any]:
    return {
        "description": None,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "livemode": False,
        "metadata": {},
        "pretax_credit_amounts": [],
        "subscription": None,
        "taxes": [],
    }


def invoice_item_fields() -> dict[str, Any]:
    return {
        "customer_account": None,
        "discounts": [],
        "discountable": True,
        "livemode": False,
        "net_amount": None,
        "parent": None,
        "proration": False,
        "proration_details": {"credited_items": None, "discount_amounts": []},
        "tax_rates": [],
        "test_clock": None,
    }


def subscription_fields() -> dict[str, Any]:
    return {
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "feedback_option": None,
            "reason": None,
        },
        "customer_account": None,
        "collection_method": "charge_automatically",
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "latest_invoice": None,
        "managed_payments": None,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": None,
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": None,
        "trial_start": None,
    }


def subscription_item_fields() -> dict[str, Any]:
    return {
        "billing_thresholds": None,
        "current_trial": None,
        "discounts": [],
        "plan": None,
        "tax_rates": [],
    }


def plan_from_price(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` view of a recurring price (subscription items still carry it)."""
    recurring = price.get("recurring") or {}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price.get("billing_scheme", "per_unit"),
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": False,
        "metadata": price["metadata"],
        "meter": recurring.get("meter"),
        "nickname": price.get("nickname"),
        "product": price["product"],
        "tiers_mode": price.get("tiers_mode"),
        "transform_usage": price.get("transform_quantity"),
        "trial_period_days": None,
        "usage_type": recurring.get("usage_type"),
    }
