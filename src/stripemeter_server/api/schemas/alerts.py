"""Alert rules on the wire."""

from __future__ import annotations

from stripemeter_server.api.wire import UNSET, DecimalInput, StrictBody, Unset, request_body


class AlertRuleChange(StrictBody):
    """A rule; on create ``name``, ``type``, ``metric`` and ``threshold`` are required."""

    name: str | Unset = UNSET
    type: str | Unset = UNSET
    metric: str | Unset = UNSET
    threshold: DecimalInput | Unset = UNSET
    percent_of: DecimalInput | Unset | None = UNSET
    recurrence: str | Unset | None = UNSET
    webhook_url: str | Unset | None = UNSET
    currency: str | Unset | None = UNSET
    customer_ref: str | Unset | None = UNSET
    enabled: bool | Unset = UNSET
    secret: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


CREATE_RULE = request_body(
    AlertRuleChange,
    examples=(
        {
            "name": "80% of plan",
            "type": "quantity",
            "metric": "api_calls",
            "threshold": "80",
            "percentOf": "100000",
            "recurrence": "period",
            "webhookUrl": "https://example.com/hooks/stripemeter",
        },
    ),
)
CHANGE_RULE = request_body(AlertRuleChange, examples=({"name": "90% of plan"},))
