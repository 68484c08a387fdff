"""Browser fixtures: one system Chromium for the whole run, a fresh context per test.

Playwright's async API runs in the session event loop, next to the live Hypercorn server.
The app's own suites (TodoMVC, lists, network) run against a server with AUTH=off, as
before accounts; the account suites (sign-in, tokens, sharing) use `auth_server`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Request,
    Response,
    Route,
    async_playwright,
    expect,
)

from backend.runtime.config import Settings

from ..servers import live_app

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # as scripts/install-chromium.sh
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
            f"Chromium not found at {CHROMIUM}. Run scripts/install-chromium.sh "
            "(it installs the Debian package `chromium`: apt-get install -y chromium), "
            "or set CHROMIUM to its path. Do not run `playwright install`.",
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
def inbox_owner() -> int:
    return 0  # AUTH=off: list 1 is the implicit user's Inbox


@pytest.fixture(scope="session")
async def live_server(settings_off: Settings) -> AsyncIterator[str]:
    """The AUTH=off app on a real socket (overrides the AUTH=on one of tests/conftest.py)."""
    async with live_app(settings_off) as (_, base):
        yield base


@pytest.fixture
async def live_client(live_server: str, clean_db: object) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
async def auth_server(settings: Settings) -> AsyncIterator[str]:
    """The app with accounts (AUTH=on) on a real socket."""
    async with live_app(settings) as (_, base):
        yield base


@pytest.fixture
async def context(
    browser: Browser, live_server: str, live_client: httpx.AsyncClient
) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile on a clean database (one empty list, "Inbox", id 1)."""
    ctx = await browser.new_context(base_url=live_server, viewport={"width": 1024, "height": 700})
    ctx.set_default_timeout(10_000)  # actions (click, fill) fail fast too
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


async def settled(page: Page) -> None:
    """Waits until the app has no request on its way (it counts them on <html>)."""
    await expect(page.locator("html")).to_have_attribute("data-requests", "0")


def todo_items(page: Page) -> Locator:
    return page.locator(".todo-list li")


def has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def api_request(method: str, pattern: str) -> Callable[[Request], bool]:
    """Matches requests to an API path (a regex on the path and query), by method."""
    regex = re.compile(pattern)

    def match(request: Request) -> bool:
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        return request.method == method and bool(regex.fullmatch("/" + path))

    return match


def api_response(method: str, pattern: str) -> Callable[[Response], bool]:
    """Matches the answers to api_request(method, pattern) (for page.expect_response)."""
    match = api_request(method, pattern)
    return lambda response: match(response.request)


TODO_ITEM = r"/api/todos/\d+"


async def server_todos(client: httpx.AsyncClient, list_id: int = 1) -> list[dict[str, Any]]:
    response = await client.get("/api/todos", params={"list_id": list_id})
    response.raise_for_status()
    return response.json()


class Gate:
    """Holds the matching requests until open() is called: to look at the page while a
    request is in flight. Other requests pass untouched."""

    def __init__(self, match: Callable[[Request], bool]) -> None:
        self.match = match
        self.released = asyncio.Event()

    async def handle(self, route: Route) -> None:
        if not self.match(route.request):
            await route.fallback()
            return
        await self.released.wait()
        await route.continue_()

    async def install(self, page: Page) -> Gate:
        await page.route("**/api/**", self.handle)
        return self

    def open(self) -> None:
        self.released.set()


async def refuse(
    page: Page,
    match: Callable[[Request], bool],
    status: int = 500,
    detail: str = "The database is on fire.",
    errors: list[dict[str, str]] | None = None,
) -> None:
    """Makes the server's answer to matching requests an error (problem+json)."""
    body: dict[str, Any] = {
        "type": "urn:todoapp:problem:test",
        "title": "Error",
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors

    async def handle(route: Route) -> None:
        if match(route.request):
            await route.fulfill(
                status=status, content_type="application/problem+json", body=json.dumps(body)
            )
        else:
            await route.fallback()

    await page.route("**/api/**", handle)


async def without_live_updates(page: Page) -> None:
    """The page's event stream cannot connect (from its next load on): a change made
    elsewhere stays unseen until the page's own request meets it."""
    await cut_off(page, api_request("GET", r"/api/events(\?.*)?"))


async def cut_off(page: Page, match: Callable[[Request], bool]) -> None:
    """Makes matching requests fail as if the network were down."""

    async def handle(route: Route) -> None:
        if match(route.request):
            await route.abort("connectionrefused")
        else:
            await route.fallback()

    await page.route("**/api/**", handle)
