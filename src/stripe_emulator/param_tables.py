"""Every other real Stripe parameter of a served route, in one of three tables.

`schemas.py` declares the parameters a handler reads. The rest of what the official library
types for a route is here, so none of it is refused as `parameter_unknown`:

* `ECHOED` — stored on the object and returned as given (data the emulator keeps but that
  changes no amount: a footer, a collection method, payment settings). The value is parsed
  as its kind: `str`, `int`, `bool`, `obj` (merged into the object's hash) or `list`.
* `IGNORED` — accepted with no effect, because in the emulated account Stripe would not act
  on them either (no payment is attempted, no tax is computed).
* `NOT_MODELLED` — behaviour the emulator does not model yet (discounts, tax rates, billing
  thresholds, …): refused with `emulator_parameter_not_modelled`, so a test knows the
  emulator, not its code, is short. docs/stripe-emulator.md lists them per resource.

A parameter declared in `schemas.py` wins over these tables.
"""

from __future__ import annotations

Echo = dict[str, tuple[str, str]]  # parameter → (object field, kind)

_CUSTOMER_ECHO: Echo = {
    "address": ("address", "obj"),
    "balance": ("balance", "int"),
    "business_name": ("business_name", "str"),
    "cash_balance": ("cash_balance", "obj"),
    "individual_name": ("individual_name", "str"),
    "invoice_prefix": ("invoice_prefix", "str"),
    "invoice_settings": ("invoice_settings", "obj"),
    "next_invoice_sequence": ("next_invoice_sequence", "int"),
    "preferred_locales": ("preferred_locales", "list"),
    "shipping": ("shipping", "obj"),
    "source": ("default_source", "str"),
    "tax_exempt": ("tax_exempt", "str"),
}
_INVOICE_ECHO: Echo = {
    "account_tax_ids": ("account_tax_ids", "list"),
    "application_fee_amount": ("application_fee_amount", "int"),
    "automatic_tax": ("automatic_tax", "obj"),
    "collection_method": ("collection_method", "str"),
    "custom_fields": ("custom_fields", "list"),
    "days_until_due": ("days_until_due", "int"),
    "default_payment_method": ("default_payment_method", "str"),
    "default_source": ("default_source", "str"),
    "due_date": ("due_date", "int"),
    "effective_at": ("effective_at", "int"),
    "footer": ("footer", "str"),
    "issuer": ("issuer", "obj"),
    "number": ("number", "str"),
    "on_behalf_of": ("on_behalf_of", "str"),
    "payment_settings": ("payment_settings", "obj"),
    "rendering": ("rendering", "obj"),
    "shipping_details": ("shipping_details", "obj"),
    "statement_descriptor": ("statement_descriptor", "str"),
    "transfer_data": ("transfer_data", "obj"),
}
_SUBSCRIPTION_ECHO: Echo = {
    "application_fee_percent": ("application_fee_percent", "num"),
    "automatic_tax": ("automatic_tax", "obj"),
    "collection_method": ("collection_method", "str"),
    "days_until_due": ("days_until_due", "int"),
    "default_payment_method": ("default_payment_method", "str"),
    "default_source": ("default_source", "str"),
    "invoice_settings": ("invoice_settings", "obj"),
    "on_behalf_of": ("on_behalf_of", "str"),
    "payment_settings": ("payment_settings", "obj"),
    "pending_invoice_item_interval": ("pending_invoice_item_interval", "obj"),
    "transfer_data": ("transfer_data", "obj"),
}
_SUBSCRIPTION_CREATE_ECHO: Echo = {  # set once at creation (update honours `description`)
    "billing_mode": ("billing_mode", "obj"),
    "currency": ("currency", "str"),
    "customer_account": ("customer_account", "str"),
    "description": ("description", "str"),
}
_PRICE_ECHO: Echo = {
    "currency_options": ("currency_options", "obj"),
    "custom_unit_amount": ("custom_unit_amount", "obj"),
    "tax_behavior": ("tax_behavior", "str"),
    "transfer_lookup_key": ("_transfer_lookup_key", "bool"),
}
_PRODUCT_ECHO: Echo = {
    "package_dimensions": ("package_dimensions", "obj"),
    "shippable": ("shippable", "bool"),
    "statement_descriptor": ("statement_descriptor", "str"),
    "tax_code": ("tax_code", "str"),
    "unit_label": ("unit_label", "str"),
    "url": ("url", "str"),
}

ECHOED: dict[tuple[str, str], Echo] = {
    ("POST", "/v1/customers"): _CUSTOMER_ECHO,
    ("POST", "/v1/customers/{id}"): {**_CUSTOMER_ECHO, "default_source": ("default_source", "str")},
    ("POST", "/v1/invoices"): {**_INVOICE_ECHO, "customer_account": ("customer_account", "str")},
    ("POST", "/v1/invoices/{id}"): _INVOICE_ECHO,
    ("POST", "/v1/invoiceitems"): {"customer_account": ("customer_account", "str")},
    ("POST", "/v1/invoiceitems/{id}"): {"discountable": ("discountable", "bool")},
    ("POST", "/v1/subscriptions"): {**_SUBSCRIPTION_ECHO, **_SUBSCRIPTION_CREATE_ECHO},
    ("POST", "/v1/subscriptions/{id}"): _SUBSCRIPTION_ECHO,
    ("POST", "/v1/prices"): _PRICE_ECHO,
    ("POST", "/v1/products"): _PRODUCT_ECHO,
}

IGNORED: dict[tuple[str, str], tuple[str, ...]] = {
    # No payment is attempted in the emulated account, so these have nothing to act on.
    ("POST", "/v1/subscriptions"): ("off_session", "payment_behavior"),
    ("POST", "/v1/subscriptions/{id}"): ("off_session", "payment_behavior"),
    ("POST", "/v1/subscription_items"): ("payment_behavior",),
    ("POST", "/v1/subscription_items/{id}"): ("off_session", "payment_behavior"),
    ("DELETE", "/v1/subscription_items/{id}"): ("payment_behavior",),
    ("POST", "/v1/invoices/{id}/pay"): (
        "forgive",
        "mandate",
        "off_session",
        "payment_method",
        "source",
    ),
    # Tax is never computed (as in a Stripe account without automatic tax).
    ("POST", "/v1/invoiceitems"): ("tax_behavior", "tax_code"),
    ("POST", "/v1/invoiceitems/{id}"): ("tax_behavior", "tax_code"),
    # The emulated account has no connected accounts, so no connect events exist.
    ("POST", "/v1/webhook_endpoints"): ("connect",),
    # No email is ever sent.
    ("POST", "/v1/credit_notes"): ("email_type",),
    ("GET", "/v1/credit_notes/preview"): ("email_type",),
    ("GET", "/v1/credit_notes/preview/lines"): ("email_type",),
}
_CREDIT_NOTE_NOT_MODELLED = ("effective_at", "refunds", "shipping_cost")
_SUB_ITEM_NOT_MODELLED = (
    "billing_thresholds",
    "current_trial",
    "discounts",
    "plan",
    "price_data",
    "tax_rates",
)

NOT_MODELLED: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/customers"): ("payment_method", "tax", "tax_id_data", "validate"),
    ("POST", "/v1/customers/{id}"): ("tax", "validate"),
    ("GET", "/v1/customers"): ("created",),
    ("POST", "/v1/products"): ("default_price_data", "tax_details"),
    ("GET", "/v1/products"): ("created", "ids", "shippable", "type", "url"),
    ("GET", "/v1/prices"): ("created", "currency", "lookup_keys", "recurring", "type"),
    ("POST", "/v1/subscriptions"): (
        "backdate_start_date",
        "billing_cycle_anchor_config",
        "billing_schedules",
        "billing_thresholds",
        "default_tax_rates",
        "discounts",
        "trial_settings",
    ),
    ("POST", "/v1/subscriptions/{id}"): (
        "add_invoice_items",
        "billing_cycle_anchor",
        "billing_schedules",
        "billing_thresholds",
        "cancellation_details",
        "default_tax_rates",
        "discounts",
        "pause_collection",
        "trial_from_plan",
        "trial_settings",
    ),
    ("GET", "/v1/subscriptions"): (
        "automatic_tax",
        "collection_method",
        "created",
        "current_period_end",
        "current_period_start",
        "customer_account",
        "plan",
        "test_clock",
    ),
    ("POST", "/v1/subscription_items"): _SUB_ITEM_NOT_MODELLED,
    ("POST", "/v1/subscription_items/{id}"): _SUB_ITEM_NOT_MODELLED,
    ("DELETE", "/v1/subscription_items/{id}"): ("clear_usage",),
    ("POST", "/v1/invoices"): (
        "automatically_finalizes_at",
        "default_tax_rates",
        "discounts",
        "from_invoice",
        "shipping_cost",
        "subscription",
    ),
    ("POST", "/v1/invoices/{id}"): (
        "automatically_finalizes_at",
        "default_tax_rates",
        "discounts",
        "shipping_cost",
    ),
    ("GET", "/v1/invoices"): ("collection_method", "created", "customer_account", "due_date"),
    ("POST", "/v1/invoiceitems"): ("discounts", "subscription", "tax_rates"),
    ("POST", "/v1/invoiceitems/{id}"): ("discounts", "invoicing_rules", "tax_rates"),
    ("GET", "/v1/invoiceitems"): ("created", "customer_account"),
    ("GET", "/v1/events"): ("created", "delivery_success"),
    ("POST", "/v1/invoices/create_preview"): (
        "automatic_tax",
        "currency",
        "customer_account",
        "customer_details",
        "discounts",
        "invoice_items",
        "issuer",
        "on_behalf_of",
        "preview_mode",
        "schedule",
        "schedule_details",
    ),
    ("POST", "/v1/invoices/{id}/lines/{line}"): (
        "discounts",
        "price_data",
        "tax_amounts",
        "tax_rates",
    ),
    ("POST", "/v1/test_helpers/test_clocks"): ("customer",),
    ("POST", "/v1/billing/credit_grants"): ("customer_account",),
    ("GET", "/v1/billing/credit_grants"): ("customer_account",),
    ("GET", "/v1/billing/credit_balance_summary"): ("customer_account",),
    ("GET", "/v1/billing/credit_balance_transactions"): ("customer_account",),
    ("POST", "/v1/credit_notes"): _CREDIT_NOTE_NOT_MODELLED,
    ("GET", "/v1/credit_notes/preview"): _CREDIT_NOTE_NOT_MODELLED,
    ("GET", "/v1/credit_notes/preview/lines"): _CREDIT_NOTE_NOT_MODELLED,
    ("GET", "/v1/credit_notes"): ("created", "customer_account"),
    ("GET", "/v1/customers/{id}/balance_transactions"): ("created", "invoice"),
    ("POST", "/v2/core/event_destinations"): (
        "amazon_eventbridge",
        "azure_event_grid",
        "events_from",
        "snapshot_api_version",
    ),
}
