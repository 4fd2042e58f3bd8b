"""(method, route) -> the official library's params class, for the billing-surface routes
(test clocks, subscription changes, previews, credits, credit notes, alerts)."""

from __future__ import annotations

SURFACE_LIBRARY_PARAMS = {
    (
        "POST",
        "/v1/test_helpers/test_clocks",
    ): "test_helpers._test_clock_create_params:TestClockCreateParams",
    (
        "GET",
        "/v1/test_helpers/test_clocks",
    ): "test_helpers._test_clock_list_params:TestClockListParams",
    (
        "GET",
        "/v1/test_helpers/test_clocks/{id}",
    ): "test_helpers._test_clock_retrieve_params:TestClockRetrieveParams",
    (
        "DELETE",
        "/v1/test_helpers/test_clocks/{id}",
    ): "test_helpers._test_clock_delete_params:TestClockDeleteParams",
    (
        "POST",
        "/v1/test_helpers/test_clocks/{id}/advance",
    ): "test_helpers._test_clock_advance_params:TestClockAdvanceParams",
    ("POST", "/v1/subscriptions/{id}"): "_subscription_update_params:SubscriptionUpdateParams",
    (
        "POST",
        "/v1/subscription_items",
    ): "_subscription_item_create_params:SubscriptionItemCreateParams",
    ("GET", "/v1/subscription_items"): "_subscription_item_list_params:SubscriptionItemListParams",
    (
        "GET",
        "/v1/subscription_items/{id}",
    ): "_subscription_item_retrieve_params:SubscriptionItemRetrieveParams",
    (
        "POST",
        "/v1/subscription_items/{id}",
    ): "_subscription_item_update_params:SubscriptionItemUpdateParams",
    (
        "DELETE",
        "/v1/subscription_items/{id}",
    ): "_subscription_item_delete_params:SubscriptionItemDeleteParams",
    (
        "POST",
        "/v1/billing/credit_grants",
    ): "billing._credit_grant_create_params:CreditGrantCreateParams",
    ("GET", "/v1/billing/credit_grants"): "billing._credit_grant_list_params:CreditGrantListParams",
    (
        "GET",
        "/v1/billing/credit_grants/{id}",
    ): "billing._credit_grant_retrieve_params:CreditGrantRetrieveParams",
    (
        "POST",
        "/v1/billing/credit_grants/{id}",
    ): "billing._credit_grant_update_params:CreditGrantUpdateParams",
    (
        "POST",
        "/v1/billing/credit_grants/{id}/expire",
    ): "billing._credit_grant_expire_params:CreditGrantExpireParams",
    (
        "POST",
        "/v1/billing/credit_grants/{id}/void",
    ): "billing._credit_grant_void_grant_params:CreditGrantVoidGrantParams",
    (
        "GET",
        "/v1/billing/credit_balance_summary",
    ): "billing._credit_balance_summary_retrieve_params:CreditBalanceSummaryRetrieveParams",
    (
        "GET",
        "/v1/billing/credit_balance_transactions",
    ): "billing._credit_balance_transaction_list_params:CreditBalanceTransactionListParams",
    (
        "GET",
        "/v1/billing/credit_balance_transactions/{id}",
    ): "billing._credit_balance_transaction_retrieve_params:CreditBalanceTransactionRetrieveParams",
    (
        "POST",
        "/v1/invoices/create_preview",
    ): "_invoice_create_preview_params:InvoiceCreatePreviewParams",
    (
        "POST",
        "/v1/customers/{id}/balance_transactions",
    ): "_customer_balance_transaction_create_params:CustomerBalanceTransactionCreateParams",
    (
        "GET",
        "/v1/customers/{id}/balance_transactions",
    ): "_customer_balance_transaction_list_params:CustomerBalanceTransactionListParams",
    (
        "GET",
        "/v1/customers/{id}/balance_transactions/{txn}",
    ): "_customer_balance_transaction_retrieve_params:CustomerBalanceTransactionRetrieveParams",
    (
        "POST",
        "/v1/customers/{id}/balance_transactions/{txn}",
    ): "_customer_balance_transaction_update_params:CustomerBalanceTransactionUpdateParams",
    ("POST", "/v1/credit_notes"): "_credit_note_create_params:CreditNoteCreateParams",
    ("GET", "/v1/credit_notes/preview"): "_credit_note_preview_params:CreditNotePreviewParams",
    (
        "GET",
        "/v1/credit_notes/preview/lines",
    ): "_credit_note_preview_lines_params:CreditNotePreviewLinesParams",
    ("GET", "/v1/credit_notes"): "_credit_note_list_params:CreditNoteListParams",
    ("GET", "/v1/credit_notes/{id}"): "_credit_note_retrieve_params:CreditNoteRetrieveParams",
    (
        "GET",
        "/v1/credit_notes/{id}/lines",
    ): "_credit_note_list_lines_params:CreditNoteListLinesParams",
    (
        "POST",
        "/v1/credit_notes/{id}/void",
    ): "_credit_note_void_credit_note_params:CreditNoteVoidCreditNoteParams",
    (
        "POST",
        "/v1/invoices/{id}/mark_uncollectible",
    ): "_invoice_mark_uncollectible_params:InvoiceMarkUncollectibleParams",
    (
        "POST",
        "/v1/invoices/{id}/lines/{line}",
    ): "_invoice_line_item_update_params:InvoiceLineItemUpdateParams",
    ("DELETE", "/v1/invoiceitems/{id}"): "_invoice_item_delete_params:InvoiceItemDeleteParams",
    ("POST", "/v1/billing/alerts"): "billing._alert_create_params:AlertCreateParams",
    ("GET", "/v1/billing/alerts"): "billing._alert_list_params:AlertListParams",
    ("GET", "/v1/billing/alerts/{id}"): "billing._alert_retrieve_params:AlertRetrieveParams",
    (
        "POST",
        "/v1/billing/alerts/{id}/activate",
    ): "billing._alert_activate_params:AlertActivateParams",
    (
        "POST",
        "/v1/billing/alerts/{id}/deactivate",
    ): "billing._alert_deactivate_params:AlertDeactivateParams",
    ("POST", "/v1/billing/alerts/{id}/archive"): "billing._alert_archive_params:AlertArchiveParams",
    (
        "POST",
        "/v2/core/event_destinations",
    ): "v2.core._event_destination_create_params:EventDestinationCreateParams",
    (
        "GET",
        "/v2/core/event_destinations",
    ): "v2.core._event_destination_list_params:EventDestinationListParams",
    (
        "GET",
        "/v2/core/event_destinations/{id}",
    ): "v2.core._event_destination_retrieve_params:EventDestinationRetrieveParams",
    (
        "DELETE",
        "/v2/core/event_destinations/{id}",
    ): "v2.core._event_destination_delete_params:EventDestinationDeleteParams",
    (
        "POST",
        "/v2/core/event_destinations/{id}/enable",
    ): "v2.core._event_destination_enable_params:EventDestinationEnableParams",
    (
        "POST",
        "/v2/core/event_destinations/{id}/disable",
    ): "v2.core._event_destination_disable_params:EventDestinationDisableParams",
    ("GET", "/v2/core/events"): "v2.core._event_list_params:EventListParams",
    ("GET", "/v2/core/events/{id}"): "v2.core._event_retrieve_params:EventRetrieveParams",
}
