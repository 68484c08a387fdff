"""/docs in Chromium with no network but the app: Swagger UI renders every operation from
the app's own assets, as a standards-mode page, under its Content-Security-Policy."""

from __future__ import annotations

import httpx
from playwright.async_api import BrowserContext, ConsoleMessage, Route, expect

METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


async def test_docs_render_every_operation_with_only_the_app_reachable(
    context: BrowserContext, live_server: str, live_client: httpx.AsyncClient
) -> None:
    elsewhere: list[str] = []

    async def only_the_app(route: Route) -> None:
        if route.request.url.startswith(live_server + "/"):
            await route.fallback()
        else:  # as if offline: a CDN, a validator badge, fonts...
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_the_app)
    page = await context.new_page()
    errors: list[str] = []  # CSP refusals and failed loads are console errors
    page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    response = await page.goto("/docs")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert await page.evaluate("document.compatMode") == "CSS1Compat"  # a doctype: no quirks

    document = (await live_client.get("/openapi.json")).json()
    operations = [(method, path) for path, item in document["paths"].items() for method in item]
    assert len([m for m, _ in operations if m in METHODS]) == len(operations) >= 10
    await expect(page.locator(".opblock")).to_have_count(len(operations))
    get_one = page.locator(".opblock-get").filter(
        has=page.locator('[data-path="/api/todos/{todo_id}"]')
    )
    await get_one.locator(".opblock-summary-control").click()
    await expect(get_one.locator(".try-out__btn")).to_be_visible()

    assert elsewhere == []
    assert errors == []


def _is_error(message: ConsoleMessage) -> bool:
    return message.type == "error"
