"""The dashboard served for a real browser: the app over a fresh SQLite store, wired to the
Stripe emulator (the push tests' environment), and headless Chromium driven by Playwright
with the system's executable (``scripts/ensure-chromium.sh`` installs it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from tests.integration.stripe_push.support import TEST_KEY, Env
from tests.support.live_server import serving

SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 390}


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("no chromium on PATH: run scripts/ensure-chromium.sh")


def launch() -> Iterator[Browser]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@dataclass
class Site:
    url: str
    env: Env

    def sign_in(self, page: Page, key: str = TEST_KEY) -> None:
        page.goto(f"{self.url}/ui/sign-in")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{self.url}/ui/overview")


def serve(env: Env) -> Iterator[Site]:
    app = create_app(Settings(database_url=env.store.url), context=env.ctx)
    with serving(app) as url:
        yield Site(url, env)


def screenshot(page: Page, name: str) -> None:
    """Each width of the current page, full length, under ``tests/e2e/screenshots``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
