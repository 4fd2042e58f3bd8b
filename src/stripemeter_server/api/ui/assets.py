"""The dashboard's static files and the API reference (``/docs``), both served from the
package: the vendored copies in ``static/vendor`` (see its README), never a CDN. Their
security headers are added by ``headers.py``."""

from __future__ import annotations

from html import escape
from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from stripemeter_server.api.ui.headers import AssetHeadersMiddleware

STATIC_URL = "/ui/static"
SWAGGER = f"{STATIC_URL}/vendor/swagger-ui"


def docs_page(title: str) -> str:
    """Swagger UI with its start-up script as a file (no inline script for the CSP)."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
<link rel="icon" href="{SWAGGER}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="{STATIC_URL}/swagger-init.js"></script>
</body>
</html>
"""


def install_assets(app: FastAPI) -> None:
    folder = str(files("stripemeter_server.api.ui") / "static")
    app.mount(STATIC_URL, StaticFiles(directory=folder), name="ui-static")
    page = docs_page(f"{app.title} — API")

    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    app.add_api_route("/docs", docs, include_in_schema=False)
    app.add_middleware(AssetHeadersMiddleware)
