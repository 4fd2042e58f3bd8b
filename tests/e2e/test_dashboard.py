"""The operator dashboard in headless Chromium: sign in, a customer's usage equal to the
API's, a void that lowers the total, a failed push retried, a reconciliation run with drift
highlighted and its CSV downloaded, sign out; a read-only key sees no write controls;
another tenant's ids are 404s; a write without the CSRF token is refused. Every page is
saved as a screenshot at 1280 px and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from stripe_emulator import EmulatorClock, EmulatorConfig, EmulatorServer
from stripemeter_server.service.operations.tenancy import create_tenant, issue_key
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import open_store
from tests.e2e.dashboard_support import Site, launch, screenshot, serve
from tests.integration.stripe_push.support import T0, TEST_KEY, Env, build_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(clock=EmulatorClock(frozen_at=T0), auto_deliver_webhooks=False)
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def site(request: pytest.FixtureRequest, tmp_path: Path, emu: EmulatorServer) -> Iterator[Site]:
    emu.control("POST", "/reset")
    emu.emulator.clock.restore({"frozen_at": T0, "offset": 0})
    store: Store = open_store("sqlite", request, tmp_path)
    env = build_env(store, emu)
    yield from serve(env)
    env.pool.close()
    store.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def _synced(env: Env) -> str:
    """A mapped metric, one Stripe customer and January usage pushed to Stripe."""
    env.metric("api_calls", "sum")
    ref = env.customer("Acme")
    env.ingest(
        {
            "metric": "api_calls",
            "customerRef": ref,
            "quantity": "100",
            "ts": "2026-01-10T00:00:00Z",
            "idempotencyKey": "evt-big",
        },
        {
            "metric": "api_calls",
            "customerRef": ref,
            "quantity": "20",
            "ts": "2026-01-11T00:00:00Z",
            "idempotencyKey": "evt-small",
        },
    )
    env.drain()
    return ref


def _key(env: Env, scopes: set[str], tenant: str = "default") -> str:
    with env.store.unit_of_work() as uow:
        if uow.tenants.get(tenant) is None:
            create_tenant(uow, tenant, name=None, auto_create_metrics=True, now=env.clock.now())
        issued = issue_key(uow, tenant, frozenset(scopes), label=None, now=env.clock.now())
        uow.commit()
    return issued.secret


def _api_usage(page: Page, site: Site, ref: str) -> str:
    answer = page.request.get(
        f"{site.url}/v1/usage/current?customerRef={ref}",
        headers={"Authorization": f"Bearer {TEST_KEY}"},
    )
    return str(answer.json()["metrics"][0]["value"])


def _shown_usage(page: Page) -> str:
    return str(page.locator('td[data-metric="api_calls"]').get_attribute("data-value"))


def test_usage_void_and_sign_out(site: Site, page: Page) -> None:
    ref = _synced(site.env)
    site.sign_in(page)
    screenshot(page, "overview")
    page.get_by_role("link", name="Customers").click()
    screenshot(page, "customers")
    page.get_by_role("link", name=ref).click()
    assert _shown_usage(page) == _api_usage(page, site, ref) == "120"
    screenshot(page, "customer")
    page.goto(f"{site.url}/ui/events")
    screenshot(page, "events")
    page.get_by_role("link", name="evt-small").click()
    screenshot(page, "event")
    page.get_by_role("link", name="Void this event…").click()
    page.get_by_role("button", name="Void the event").click()
    assert page.get_by_role("status").inner_text() == "The event is void."
    page.goto(f"{site.url}/ui/customers/{ref}")
    assert _shown_usage(page) == _api_usage(page, site, ref) == "100"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site.url}/ui/sign-in")
    screenshot(page, "sign-in")
    page.goto(f"{site.url}/ui/overview")
    assert page.url == f"{site.url}/ui/sign-in"


def test_a_failed_push_is_retried(site: Site, page: Page) -> None:
    env = site.env
    env.metric("api_calls", "sum", meter=False)  # no meter in Stripe: the push parks
    ref = env.customer()
    env.ingest(
        {"metric": "api_calls", "customerRef": ref, "quantity": "9", "ts": "2026-01-10T00:00:00Z"}
    )
    env.drain()
    site.sign_in(page)
    page.goto(f"{site.url}/ui/stripe?status=failed")
    row = page.locator("tr", has_text=ref)
    assert "no_meter" in row.inner_text()
    screenshot(page, "stripe")
    env.meter("api_calls")
    row.get_by_role("button", name="Retry").click()
    assert "queued again" in page.get_by_role("status").inner_text()
    env.drain()
    assert [r.status for r in env.rows()] == ["sent"]


def test_a_reconciliation_shows_drift_and_its_csv_downloads(site: Site, page: Page) -> None:
    ref = _synced(site.env)
    site.env.emu.control(
        "POST",
        "/meter_events",
        {
            "event_name": "api_calls",
            "payload": {"stripe_customer_id": ref, "value": "7"},
            "timestamp": T0 - 3600,
        },
    )
    site.sign_in(page)
    page.goto(f"{site.url}/ui/stripe")
    page.get_by_role("button", name="Run a reconciliation").click()
    page.locator("#run-status", has_text="done").wait_for(timeout=30_000)
    page.reload()
    drift = page.locator("tr.drift", has_text=ref)
    cells = drift.locator("td").all_inner_texts()
    assert cells[3:6] == ["120", "127", "7"] and cells[-1].startswith("drift")
    screenshot(page, "reconciliation-run")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0].startswith("line") or "customerRef" in text.splitlines()[0]
    assert ref in text and "drift" in text


def test_other_pages_render_for_screenshots(site: Site, page: Page) -> None:
    _synced(site.env)
    site.sign_in(page)
    for name in ("corrections", "metrics", "alerts"):
        page.goto(f"{site.url}/ui/{name}")
        assert page.locator("h1").count() == 1
        screenshot(page, name)


def test_a_read_only_key_sees_no_write_control(site: Site, page: Page) -> None:
    _synced(site.env)
    site.sign_in(page, _key(site.env, {"read"}))
    page.goto(f"{site.url}/ui/events")
    page.get_by_role("link", name="evt-small").click()
    assert page.get_by_role("link", name="Void this event…").count() == 0
    page.goto(f"{site.url}/ui/stripe")
    assert page.get_by_role("button").filter(has_text="Run a reconciliation").count() == 0
    assert "read-only" in page.locator("header").inner_text()


def test_another_tenants_ids_are_404(site: Site, page: Page) -> None:
    ref = _synced(site.env)
    site.sign_in(page, _key(site.env, {"admin"}, tenant="other"))
    for path in (f"/ui/customers/{ref}", "/ui/events/detail?key=evt-big"):
        answer = page.goto(f"{site.url}{path}")
        assert answer is not None and answer.status == 404


def test_a_write_without_the_csrf_token_is_refused(site: Site, page: Page) -> None:
    ref = _synced(site.env)
    site.sign_in(page)
    refused = page.request.post(
        f"{site.url}/ui/events/void", form={"key": "evt-big", "confirm": "yes"}
    )
    assert refused.status == 403 and _api_usage(page, site, ref) == "120"


def _api(page: Page, site: Site, method: str, path: str, body: object) -> dict[str, Any]:
    answer = page.request.fetch(
        f"{site.url}{path}",
        method=method,
        data=body,
        headers={"Authorization": f"Bearer {TEST_KEY}"},
    )
    assert answer.ok, answer.text()
    found: dict[str, Any] = answer.json()
    return found


def test_the_overview_counts_each_answer(site: Site, page: Page) -> None:
    site.env.metric("api_calls", "sum", meter=False)
    event = {
        "metric": "api_calls",
        "customerRef": "cus_A",
        "quantity": "1",
        "ts": "2026-01-10T00:00:00Z",
        "idempotencyKey": "evt-1",
    }
    for events in ([event], [event, {**event, "quantity": "2"}, {**event, "quantity": "x"}]):
        _api(page, site, "POST", "/v1/events/ingest", {"events": events})
    site.sign_in(page)
    hour = page.locator("#ingest-counts tr", has_text="Last hour")
    shown = [
        hour.locator(f'td[data-status="{s}"]').inner_text()
        for s in ("accepted", "duplicate", "conflict", "rejected")
    ]
    assert shown == ["1", "1", "1", "1"]
    screenshot(page, "overview-counts")


def test_another_key_approves_a_backfill_close(site: Site, page: Page) -> None:
    ref = _synced(site.env)
    _api(page, site, "PUT", "/v1/corrections/policy", {"fourEyes": True})
    session = _api(page, site, "POST", "/v1/backfills", {"metric": "api_calls"})["id"]
    _api(
        page,
        site,
        "POST",
        "/v1/events/ingest",
        {
            "events": [
                {
                    "metric": "api_calls",
                    "customerRef": ref,
                    "quantity": "30",
                    "backfillId": session,
                    "ts": "2026-01-12T00:00:00Z",
                    "idempotencyKey": "evt-backfill",
                }
            ]
        },
    )
    _api(page, site, "POST", f"/v1/backfills/{session}/close", {})
    site.sign_in(page, _key(site.env, {"admin"}))
    page.goto(f"{site.url}/ui/corrections")
    screenshot(page, "corrections-four-eyes")
    page.get_by_role("button", name=f"Approve the close of {session}").click()
    assert page.get_by_role("status").inner_text() == f"Backfill {session} is closed."
    assert _api_usage(page, site, ref) == "150"


def test_a_rebuild_is_started_and_its_progress_shown(site: Site, page: Page) -> None:
    _synced(site.env)
    site.sign_in(page)
    page.goto(f"{site.url}/ui/corrections")
    page.get_by_label("Metric", exact=True).last.fill("api_calls")
    page.get_by_role("button", name="Start a rebuild").click()
    page.locator("#job-status", has_text="succeeded").wait_for(timeout=30_000)
    screenshot(page, "rebuild")
    page.get_by_role("link", name="Back to corrections").click()
    job = page.locator("#rebuild-jobs tbody tr").first
    assert "succeeded" in job.inner_text()
    screenshot(page, "corrections-rebuilds")


def test_prices_are_shown_per_currency(site: Site, page: Page) -> None:
    ref = _synced(site.env)
    _api(
        page,
        site,
        "PUT",
        "/v1/prices/api_calls",
        {"model": "per_unit", "currency": "usd", "unitAmount": "0.0025", "minimum": "10"},
    )
    _api(
        page,
        site,
        "PUT",
        f"/v1/customers/{ref}/prices/api_calls",
        {"model": "package", "currency": "jpy", "packageSize": "1000", "packageAmount": "500"},
    )
    site.sign_in(page)
    page.get_by_role("link", name="Metrics and prices").click()
    amounts = page.locator("#price-list td.amount").all_inner_texts()
    assert amounts == ["0.0025 USD per unit", "500 JPY per 1,000 units"]
    screenshot(page, "metrics-prices")


def _pages(site: Site, ref: str) -> list[str]:
    return [
        "/ui/overview",
        "/ui/customers",
        f"/ui/customers/{ref}",
        "/ui/events",
        "/ui/corrections",
        "/ui/stripe",
        "/ui/metrics",
        "/ui/alerts",
    ]


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_logs_a_console_error(site: Site, browser: Browser, width: int) -> None:
    ref = _synced(site.env)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.goto(f"{site.url}/ui/sign-in")
    site.sign_in(page)
    for path in _pages(site, ref):
        page.goto(f"{site.url}{path}")
        page.wait_for_load_state("networkidle")
    context.close()
    assert errors == []
