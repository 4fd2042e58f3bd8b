"""Portal tokens, portal settings and the portal's own alert rules on the wire."""

from __future__ import annotations

from stripemeter_server.api.wire import (
    UNSET,
    DecimalInput,
    StrictBody,
    Unset,
    request_body,
)


class TokenRequest(StrictBody):
    customer_ref: str
    metrics: list[str] | Unset | None = UNSET
    scopes: list[str] | Unset | None = UNSET
    expires_in: int | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class Theme(StrictBody):
    css_variables: dict[str, str] | Unset | None = UNSET
    logo_url: str | Unset | None = UNSET


class SettingsChange(StrictBody):
    allowed_origins: list[str] | Unset = UNSET
    frame_ancestors: list[str] | Unset = UNSET
    theme: Theme | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class PortalAlertRule(StrictBody):
    metric: str
    threshold: DecimalInput
    name: str | Unset | None = UNSET
    percent_of: DecimalInput | Unset | None = UNSET
    recurrence: str | Unset | None = UNSET
    webhook_url: str | Unset | None = UNSET
    enabled: bool | Unset = UNSET


TOKEN = request_body(
    TokenRequest,
    examples=(
        {
            "customerRef": "cus_ABC123",
            "metrics": ["api_calls"],
            "scopes": ["usage:read", "alerts:write"],
            "expiresIn": 3600,
        },
    ),
)
SETTINGS = request_body(
    SettingsChange,
    examples=(
        {
            "allowedOrigins": ["https://app.example.com"],
            "frameAncestors": ["https://app.example.com"],
            "theme": {
                "cssVariables": {"--portal-accent": "#6b21a8"},
                "logoUrl": "https://app.example.com/logo.svg",
            },
        },
    ),
)
ALERT_RULE = request_body(
    PortalAlertRule,
    examples=(
        {
            "metric": "api_calls",
            "threshold": "80",
            "percentOf": "100000",
            "webhookUrl": "https://hooks.example.com/usage",
        },
    ),
)
