"""Portal tokens, portal settings and the portal's own alert rules on the wire: bodies read
here (each value handed to its bounded checker), answers rendered here from their records."""

from __future__ import annotations

from typing import Any

from stripemeter_server.api.wire import (
    UNSET,
    DecimalInput,
    Instant,
    StrictBody,
    Unset,
    field_names,
    render,
    request_body,
    response,
)
from stripemeter_server.domain.alerts import parse_new_rule
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.timestamps import format_timestamp, from_micros
from stripemeter_server.service.portal import settings, tokens
from stripemeter_server.service.portal.alerts import PortalRule
from stripemeter_server.service.portal.ports import PortalTokenRecord


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


def parse_token_request(body: dict[str, Any]) -> tokens.TokenRequest:
    """The minting request; an unknown key is refused by name (``invalid_field``)."""
    unknown = set(body) - field_names(TokenRequest)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError(f"unknown field {field!r}", code="invalid_field", field=field)
    return tokens.token_request(
        body.get("customerRef"), body.get("metrics"), body.get("scopes"), body.get("expiresIn")
    )


def parse_settings(body: dict[str, Any]) -> settings.PortalSettings:
    unknown = set(body) - field_names(SettingsChange)
    if unknown:
        name = sorted(unknown)[0]
        raise settings.invalid(f"unknown field {name!r}", name)
    theme = body.get("theme") or {}
    if not isinstance(theme, dict) or set(theme) - field_names(Theme):
        raise settings.invalid("theme must be {cssVariables, logoUrl}", "theme")
    return settings.PortalSettings(
        settings.origins(body.get("allowedOrigins"), "allowedOrigins"),
        settings.origins(body.get("frameAncestors"), "frameAncestors"),
        settings.css_variables(theme.get("cssVariables")),
        settings.logo_url(theme.get("logoUrl")),
    )


def parse_alert_rule(body: dict[str, Any], customer_ref: str) -> PortalRule:
    """A threshold for the token's customer, always a quantity rule; each refusal is carried
    for the use case to raise in its place (after the token's scope is checked)."""
    unknown = set(body) - field_names(PortalAlertRule)
    if unknown:
        name = sorted(unknown)[0]
        refused = ValidationError(f"unknown field {name!r}", code="invalid_alert_rule", field=name)
        return PortalRule("", None, body_refusal=refused)
    metric = body.get("metric")
    if not isinstance(metric, str) or not metric:
        refused = ValidationError("metric is required", code="invalid_alert_rule", field="metric")
        return PortalRule("", None, body_refusal=refused)
    try:
        rule = parse_new_rule({**body, "type": "quantity", "customerRef": customer_ref})
    except ValidationError as refusal:
        return PortalRule(metric, None, rule_refusal=refusal)
    return PortalRule(metric, rule)


class Token(StrictBody):
    """A portal token as the API shows it: never its secret nor its hash."""

    id: str
    customer_ref: str
    metrics: list[str] | None
    scopes: list[str]
    minted_by: str
    created_at: Instant
    expires_at: Instant
    revoked_at: Instant | None


class MintedToken(Token):
    token: str  # shown once, like an API key


class TokenList(StrictBody):
    data: list[Token]


class ThemeView(StrictBody):
    css_variables: dict[str, str]
    logo_url: str | None


class Settings(StrictBody):
    allowed_origins: list[str]
    frame_ancestors: list[str]
    theme: ThemeView


class Me(StrictBody):
    """What the presented portal token may read."""

    customer_ref: str
    metrics: list[str] | None
    scopes: list[str]
    expires_at: Instant


MINTED_ANSWER: dict[int | str, dict[str, Any]] = {
    201: response(MintedToken, "The token (its secret shown once)")
}
TOKENS_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(TokenList, "The tenant's portal tokens, newest first")
}
SETTINGS_ANSWER: dict[int | str, dict[str, Any]] = {200: response(Settings, "The settings")}
ME_ANSWER: dict[int | str, dict[str, Any]] = {200: response(Me, "The token's grant")}


def _iso(us: int) -> str:
    return format_timestamp(from_micros(us))


def _token_fields(record: PortalTokenRecord) -> dict[str, Any]:
    return {
        "id": record.token_id,
        "customer_ref": record.customer_ref,
        "metrics": None if record.metrics is None else list(record.metrics),
        "scopes": sorted(record.scopes),
        "minted_by": record.minted_by,
        "created_at": _iso(record.created_us),
        "expires_at": _iso(record.expires_us),
        "revoked_at": None if record.revoked_us is None else _iso(record.revoked_us),
    }


def minted_view(minted: tokens.MintedToken) -> dict[str, Any]:
    return render(MintedToken(**_token_fields(minted.record), token=minted.token))


def token_list(found: list[PortalTokenRecord]) -> dict[str, Any]:
    return render(TokenList(data=[Token(**_token_fields(t)) for t in found]))


def settings_view(found: settings.PortalSettings) -> dict[str, Any]:
    return render(
        Settings(
            allowed_origins=list(found.allowed_origins),
            frame_ancestors=list(found.frame_ancestors),
            theme=ThemeView(css_variables=found.css_variables, logo_url=found.logo_url),
        )
    )


def me_view(grant: tokens.PortalGrant) -> dict[str, Any]:
    return render(
        Me(
            customer_ref=grant.customer_ref,
            metrics=None if grant.metrics is None else sorted(grant.metrics),
            scopes=sorted(grant.scopes),
            expires_at=_iso(grant.expires_us),
        )
    )
