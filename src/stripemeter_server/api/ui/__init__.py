"""The operator dashboard at ``/ui``: server-rendered pages (Jinja2 + htmx, ADR 0013) that
read and write through the same use cases as the JSON API, in the tenant of the API key the
operator signs in with. ``install_ui`` adds it, its vendored assets and an offline ``/docs``."""

from __future__ import annotations

from fastapi import FastAPI

from stripemeter_server.api.ui.assets import install_assets
from stripemeter_server.api.ui.pages import (
    alerts,
    catalog,
    corrections,
    customers,
    events,
    overview,
    sign_in,
    stripe,
)
from stripemeter_server.api.ui.render import Pages
from stripemeter_server.api.ui.web import UiTools


def install_ui(app: FastAPI) -> None:
    """Mount the dashboard (its sessions are rows of the store, ADR 0711)."""
    app.state.stripemeter_ui = UiTools(pages=Pages())
    install_assets(app)
    for module in (sign_in, overview, customers, events, stripe, corrections, catalog, alerts):
        app.include_router(module.router, include_in_schema=False)
