"""Templates and the few formatting filters the pages share.

Numbers arrive as the API's exact decimal strings and are only regrouped here, on the
server, with ``Decimal``: the browser never computes with them. Money is rounded to the
currency's minor unit (two digits for USD, none for JPY) and shown with its ISO code.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.domain.money import minor_unit_exponent, round_amount


def build_environment() -> Environment:
    folder = str(files("stripemeter_server.api.ui") / "templates")
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = format_number
    env.filters["money"] = format_money
    env.filters["unit_price"] = format_unit_price
    env.filters["when"] = format_when
    return env


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        return None
    return found if found.is_finite() else None


def format_number(value: object) -> str:
    """An exact decimal with thousands separators and every digit it has ("1,234.5")."""
    found = _decimal(value)
    if found is None:
        return "—" if value is None else str(value)
    return f"{found:,f}"


def format_money(value: object, currency: str | None) -> str:
    """``12.5`` in ``usd`` → ``"12.50 USD"``; ``1234`` in ``jpy`` → ``"1,234 JPY"``."""
    found = _decimal(value)
    if found is None or not currency:
        return "—" if found is None else f"{found:,f}"
    try:
        digits = minor_unit_exponent(currency)
        rounded = round_amount(found, currency)
    except StripemeterError:  # an unknown currency: the exact amount, as stored
        return f"{found:,f} {currency.upper()}"
    return f"{rounded:,.{digits}f} {currency.upper()}"


def format_unit_price(value: object, currency: str | None) -> str:
    """A price per unit is never rounded (``0.002`` USD a call is a real price): every digit
    it has, padded to the currency's minor unit (``12.5`` → ``"12.50 USD"``)."""
    found = _decimal(value)
    if found is None or not currency:
        return "—" if found is None else f"{found:,f}"
    try:
        minor = minor_unit_exponent(currency)
    except StripemeterError:
        return f"{found:,f} {currency.upper()}"
    digits = max(minor, -int(found.normalize().as_tuple().exponent))
    return f"{found:,.{digits}f} {currency.upper()}"


def format_when(value: object) -> str:
    """RFC 3339 timestamps, shortened for tables ("2026-01-15 10:00:00Z")."""
    if not isinstance(value, str):
        return "—"
    return value.replace("T", " ").replace(".000000Z", "Z")


class Pages:
    """Renders a template with what every page needs (the operator, the CSRF token)."""

    def __init__(self) -> None:
        self.env = build_environment()

    def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        context.setdefault("operator", getattr(request.state, "operator", None))
        context["request_path"] = request.url.path
        body = self.env.get_template(template).render(**context)
        return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


# No framing, no sniffing, no referrer, and scripts and styles only from this origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
