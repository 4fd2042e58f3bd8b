"""(method, route) -> the official library's params class, for the billing-surface routes
(test clocks, subscription changes, previews, credits, credit notes, alerts)."""

from __future__ import annotations

SURFACE_LIBRARY_PARAMS = {
    ("POST", "/v1/test_helpers/test_clocks"):
        "test_helpers._test_clock_create_params:TestClockCreateParams",
    ("GET", "/v1/test_helpers/test_clocks"):
        "test_helpers._test_clock_list_params:TestClockListParams",
    ("GET", "/v1/test_helpers/test_clocks/{id}"):
        "test_helpers._test_clock_retrieve_params:TestClockRetrieveParams",
    ("DELETE", "/v1/test_helpers/test_clocks/{id}"):
        "test_helpers._test_clock_delete_params:TestClockDeleteParams",
    ("POST", "/v1/test_helpers/test_clocks/{id}/advance"):
        "test_helpers._test_clock_advance_params:TestClockAdvanceParams",
    ("POST", "/v1/subscriptions/{id}"): "_subscription_update_params:SubscriptionUpdateParams",
    ("POST", "/v1/subscription_items"):
        "_subscription_item_create_params:SubscriptionItemCreateParams",
    ("GET", "/v1/subscription_items"): "_subscription_item_list_params:SubscriptionItemListParams",
    ("GET", "/v1/subscription_items/{id}"):
        "_subscription_item_retrieve_params:SubscriptionItemRetrieveParams",
    ("POST", "/v1/subscription_items/{id}"):
        "_subscription_item_update_params:SubscriptionItemUpdateParams",
    ("DELETE", "/v1/subscription_items/{id}"):
        "_subscription_item_delete_params:SubscriptionItemDeleteParams",
}
