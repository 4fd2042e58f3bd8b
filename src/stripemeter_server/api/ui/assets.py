"""The dashboard's static files and the API reference (``/docs``), both served from the
package: the vendored copies in ``static/vendor`` (see its README), never a CDN."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_URL = "/ui/static"
SWAGGER = f"{STATIC_URL}/vendor/swagger-ui"


def install_assets(app: FastAPI) -> None:
    folder = str(files("stripemeter_server.api.ui") / "static")
    app.mount(STATIC_URL, StaticFiles(directory=folder), name="ui-static")

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} — API",
                                   swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER}/swagger-ui.css",
                                   swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png")

    app.add_api_route("/docs", docs, include_in_schema=False)
