"""Browser fixtures: one system Chromium for the whole run, a fresh context per test.

Playwright's async API runs in the session event loop, next to the live Hypercorn server.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Auto-waiting assertions give up after this long: generous for a loaded CI machine,
# never a fixed wait.
expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Run the setup script "
            "(it installs the Debian package `chromium`: apt-get install -y chromium), "
            "or set CHROMIUM_PATH. Do not run `playwright install`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def context(
    browser: Browser, live_server: str, live_client: httpx.AsyncClient
) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile on a clean database (one empty list, "Inbox", id 1)."""
    ctx = await browser.new_context(base_url=live_server, viewport={"width": 1024, "height": 700})
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """The app, loaded and ready. Fails the test on any uncaught script error."""
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await open_app(page)
    yield page
    assert not errors, f"uncaught errors in the page: {errors}"


async def open_app(page: Page, path: str = "/") -> Page:
    await page.goto(path)
    await expect(page.locator(".todoapp")).to_have_attribute("aria-busy", "false")
    return page


async def add_todos(page: Page, *titles: str) -> None:
    """Types each title and waits until the server has saved it (it gets an id)."""
    new_todo = page.locator(".new-todo")
    for title in titles:
        async with page.expect_response(
            lambda r: r.url.endswith("/api/todos") and r.request.method == "POST"
        ):
            await new_todo.fill(title)
            await new_todo.press("Enter")
    await expect(page.locator(".todo-list li.pending")).to_have_count(0)


def todo_items(page: Page):
    return page.locator(".todo-list li")


SELECTED = re.compile(r"\bselected\b")
