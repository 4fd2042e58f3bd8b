"""Headers and markup that keep the browser's console clean and the assets unframeable:
/docs, /openapi.json and static files carry their security headers; no page needs an inline
script or style (htmx is told not to inject its indicator style; the stylesheet has it)."""

from __future__ import annotations

import re

import pytest

from tests.integration.ui.conftest import Ui


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_the_api_reference_cannot_be_framed_or_sniffed(ui: Ui, path: str) -> None:
    headers = ui.browser().get(path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert (headers["x-content-type-options"], headers["x-frame-options"]) == ("nosniff", "DENY")


def test_the_docs_page_has_no_inline_script(ui: Ui) -> None:
    page = ui.browser().get("/docs")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert (
        "'unsafe-inline'"
        not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )


@pytest.mark.parametrize(
    "path", ["app.css", "chart.js", "swagger-init.js", "vendor/htmx/htmx.min.js", "no-such-file.js"]
)
def test_static_files_are_not_sniffed(ui: Ui, path: str) -> None:
    assert ui.browser().get(f"/ui/static/{path}").headers["x-content-type-options"] == "nosniff"


def test_htmx_is_configured_not_to_inject_its_style(ui: Ui) -> None:
    page = ui.sign_in().get("/ui/corrections").text
    assert '"includeIndicatorStyles":false' in page
    assert ".htmx-indicator" in ui.browser().get("/ui/static/app.css").text


def test_an_api_route_gets_no_asset_headers(ui: Ui) -> None:
    assert "content-security-policy" not in ui.browser().get("/health/live").headers
