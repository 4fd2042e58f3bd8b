"""The customer portal in headless Chromium: the token page at 390 and 1280 px shows the
admin API's values with no console error (CSP included); a bad token gets the 401 page; a
page of an allowed origin can frame it, call the read API and run the widget, a page of
another origin can do none of these (the browser enforces frame-ancestors and CORS).

The embedding pages are served by two small servers on other loopback ports (other
origins, same address space), so the browser sends traffic only to 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from stripemeter_server.api.app import create_app
from stripemeter_server.api.ui.render import format_money
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import NOW, open_store
from tests.e2e.dashboard_support import WIDTHS, launch, screenshot
from tests.support.live_server import serving

pytestmark = pytest.mark.slow

KEY = "smk_test_portal_e2e_0001"


@dataclass
class Embedder:
    """A page of another origin: serves whatever HTML the test gives it."""

    url: str
    html: list[str] = field(default_factory=lambda: ["<p>app</p>"])


@contextmanager
def embedder() -> Iterator[Embedder]:
    site = Embedder("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"<!doctype html><html><body>{site.html[0]}</body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Portal:
    url: str
    http: TestClient
    allowed: Embedder
    stranger: Embedder
    clock: FrozenClock

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(
            method, f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {KEY}"}
        )
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def token(self, customer: str = "cus_a", **extra: Any) -> str:
        token: str = self.call("POST", "/v1/portal/tokens", {"customerRef": customer, **extra})[
            "token"
        ]
        return token


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Portal]:
    store: Store = open_store("sqlite", request, tmp_path)
    clock = FrozenClock(NOW)
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), KEY)
        uow.commit()
    app = create_app(
        Settings(database_url=store.url),
        context=ServiceContext(store=store, clock=clock, limits=EventLimits()),
    )
    with (
        TestClient(app) as http,
        serving(app) as url,
        embedder() as allowed,
        embedder() as stranger,
    ):
        site = Portal(url, http, allowed, stranger, clock)
        site.call(
            "POST", "/v1/metrics", {"code": "api_calls", "aggregation": "sum", "unit": "calls"}
        )
        site.call(
            "PUT",
            "/v1/prices/api_calls",
            {"model": "per_unit", "currency": "usd", "unitAmount": "0.001"},
        )
        site.call(
            "POST",
            "/v1/events/ingest",
            {
                "events": [
                    {
                        "metric": "api_calls",
                        "customerRef": c,
                        "quantity": q,
                        "ts": "2025-01-15T10:00:00Z",
                        "idempotencyKey": f"e-{c}",
                    }
                    for c, q in (("cus_a", "1234567.5"), ("cus_b", "3"))
                ]
            },
        )
        site.call(
            "PUT",
            "/v1/portal/settings",
            {"allowedOrigins": [allowed.url], "frameAncestors": [allowed.url]},
        )
        yield site
    store.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def _errors(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append(str(e)))
    return found


def _embedder(page: Page, site: Embedder, html: str) -> None:
    """Open ``site`` (another origin) showing ``html``."""
    site.html[0] = html
    page.goto(f"{site.url}/billing")


def test_the_page_shows_the_admin_apis_values_at_both_widths(portal: Portal, page: Page) -> None:
    errors = _errors(page)
    admin = portal.call("GET", "/v1/usage/current?customerRef=cus_a")["metrics"][0]
    for width in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{portal.url}/portal?token={portal.token()}")
        shown = page.locator('.card[data-metric="api_calls"] [data-value]')
        assert shown.get_attribute("data-value") == admin["value"] == "1234567.5"
        assert shown.inner_text() == "1,234,567.5"
        assert page.locator(".card .cost").inner_text() == "Cost so far: 1,234.57 USD"
    screenshot(page, "portal")
    assert errors == []


def test_the_page_shows_the_plan_credit_and_upcoming_invoice(portal: Portal, page: Page) -> None:
    portal.call("PUT", "/v1/features/calls_quota", {"type": "metered", "metric": "api_calls"})
    portal.call("PUT", "/v1/customers/cus_a/entitlements/calls_quota", {"limit": "2000000"})
    portal.call(
        "POST",
        "/v1/customers/cus_a/credit-grants",
        {"amount": "50", "currency": "usd", "idempotencyKey": "g1"},
    )
    errors = _errors(page)
    admin = portal.call("GET", "/v1/customers/cus_a/entitlements")["data"][0]
    invoice = portal.call("GET", "/v1/customers/cus_a/upcoming-invoice")["totals"][0]
    page.goto(f"{portal.url}/portal?token={portal.token()}")
    feature = page.locator('tr[data-feature="calls_quota"]')
    assert admin["balance"] == "765432.5" and "765,432.5" in feature.inner_text()
    assert (
        page.locator('[data-invoice="subtotal"]').inner_text()
        == format_money(invoice["subtotal"], "usd")
        == "1,234.57 USD"
    )
    assert page.locator('[data-balance="usd"]').is_visible()
    assert errors == []


def test_the_page_is_usable_from_the_keyboard(portal: Portal, page: Page) -> None:
    page.goto(f"{portal.url}/portal?token={portal.token()}")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    assert "Daily values of api_calls" in focused
    history = page.get_by_label("Last 31 days")
    assert history.get_by_role("cell", name="1,234,567.5").is_visible()


def test_an_expired_token_gets_the_401_page(portal: Portal, page: Page) -> None:
    token = portal.token(expiresIn=60)
    portal.clock.advance(timedelta(seconds=61))
    answer = page.goto(f"{portal.url}/portal?token={token}")
    assert answer is not None and answer.status == 401
    assert page.get_by_role("alert").inner_text() == "This usage link has expired."


def test_a_tampered_token_gets_the_401_page(portal: Portal, page: Page) -> None:
    answer = page.goto(f"{portal.url}/portal?token={portal.token()}x")
    assert answer is not None and answer.status == 401
    assert page.get_by_role("alert").inner_text() == "This usage link is not valid."


def test_a_revoked_token_gets_the_401_page(portal: Portal, page: Page) -> None:
    token = portal.token(expiresIn=60)
    portal.call("DELETE", f"/v1/portal/tokens/{token[4:].split('.')[0]}")
    answer = page.goto(f"{portal.url}/portal?token={token}")
    assert answer is not None and answer.status == 401
    assert page.get_by_role("alert").inner_text() == "This usage link was revoked."
    screenshot(page, "portal-401")


def test_an_allowed_origin_can_frame_the_page(portal: Portal, page: Page) -> None:
    _embedder(
        page,
        portal.allowed,
        f'<iframe title="usage" src="{portal.url}/portal?token='
        f'{portal.token()}" width="600" height="600"></iframe>',
    )
    frame = page.frame_locator('iframe[title="usage"]')
    assert frame.locator("[data-value]").first.get_attribute("data-value") == "1234567.5"


def test_another_origin_cannot_frame_the_page(portal: Portal, page: Page) -> None:
    errors = _errors(page)
    _embedder(
        page,
        portal.stranger,
        f'<iframe title="usage" src="{portal.url}/portal?token={portal.token()}"></iframe>',
    )
    page.wait_for_timeout(500)  # let the browser refuse the frame (not an assertion on time)
    child = page.frames[1]
    assert child.url != f"{portal.url}/portal" and "frame-ancestors" in " ".join(errors)


def _fetch_usage(page: Page, portal: Portal) -> Any:
    return page.evaluate(
        """async ([url, token]) => {
             try {
               const r = await fetch(url + "/portal/v1/usage",
                                     {headers: {Authorization: "Bearer " + token}});
               return (await r.json()).metrics[0].value;
             } catch (e) { return "refused"; }
           }""",
        [portal.url, portal.token()],
    )


def test_an_allowed_origin_can_call_the_read_api(portal: Portal, page: Page) -> None:
    _embedder(page, portal.allowed, "<p>app</p>")
    assert _fetch_usage(page, portal) == "1234567.5"


def test_another_origin_cannot_call_the_read_api(portal: Portal, page: Page) -> None:
    _embedder(page, portal.stranger, "<p>app</p>")
    assert _fetch_usage(page, portal) == "refused"


def test_the_widget_renders_into_a_div(portal: Portal, page: Page) -> None:
    errors = _errors(page)
    _embedder(
        page,
        portal.allowed,
        f'<div data-stripemeter-portal data-token="{portal.token()}">'
        f'</div><script src="{portal.url}/portal/embed.js"></script>',
    )
    row = page.get_by_role("row", name="api_calls")
    assert row.inner_text().split("\t")[1:] == ["1,234,567.5 calls", "1,234.57 USD"]
    assert errors == []
