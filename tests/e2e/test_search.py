"""The search box: results as the user types (debounced, a superseded search cancelled),
over the list on screen or all lists, the words marked without markup, and the search in
the URL (linked, reloaded)."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, Route, expect

from .conftest import open_app, settled, todo_items

SEARCHES = re.compile(r"/api/todos\?.*\bq=")


async def make_todos(client: httpx.AsyncClient, *titles: str, list_id: int = 1) -> None:
    body = [{"title": t, "list_id": list_id} for t in titles]
    (await client.post("/api/todos", json=body)).raise_for_status()


async def groceries(client: httpx.AsyncClient) -> None:
    await make_todos(client, "Buy groceries", "Grow tomatoes", "Read a book")
    other = (await client.post("/api/lists", json={"name": "Family"})).json()["id"]
    await make_todos(client, "groceries for mum", list_id=other)


def titles(page: Page):
    return todo_items(page).locator("label")


async def test_search_as_you_type_marks_the_words_and_lives_in_the_url(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await groceries(live_client)
    await page.reload()
    await page.locator(".search").press_sequentially("gro")
    await expect(titles(page)).to_have_text(["Buy groceries", "Grow tomatoes"])
    await expect(page).to_have_url(re.compile(r"/\?q=gro$"))
    await expect(page.locator(".todo-list mark")).to_have_text(["gro", "Gro"])

    await page.reload()  # a search can be linked and reloaded
    await expect(page.locator(".search")).to_have_value("gro")
    await expect(titles(page)).to_have_text(["Buy groceries", "Grow tomatoes"])

    await page.locator(".search").press("Escape")
    await expect(titles(page)).to_have_text(["Buy groceries", "Grow tomatoes", "Read a book"])
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.locator(".todo-list mark")).to_have_count(0)


async def test_search_all_lists(page: Page, live_client: httpx.AsyncClient) -> None:
    await groceries(live_client)
    await page.reload()
    await page.locator(".search").fill("groceries")
    await expect(titles(page)).to_have_text(["Buy groceries"])
    await page.get_by_role("checkbox", name="All lists").check()
    await expect(page).to_have_url(re.compile(r"/search\?q=groceries$"))
    await expect(page.locator(".list-title")).to_have_text("Search")
    await expect(titles(page)).to_have_text(["Buy groceries", "groceries for mum"])
    await expect(todo_items(page).locator(".list-tag")).to_have_text(["Inbox", "Family"])
    await page.reload()
    await expect(page.get_by_role("checkbox", name="All lists")).to_be_checked()
    await expect(titles(page)).to_have_text(["Buy groceries", "groceries for mum"])
    # Back to the list that was on screen, still searching.
    await page.get_by_role("checkbox", name="All lists").uncheck()
    await expect(titles(page)).to_have_text(["Buy groceries"])


async def test_typing_sends_one_search_after_a_pause(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    """The page's clock is driven by the test: no search while the user types, one after
    the pause (250 ms), for the whole word."""
    await groceries(live_client)
    await page.clock.install()
    await open_app(page)
    # Paused: an installed clock also moves with real time, and typing on a busy machine
    # once took longer than the pause (CI-like run: the search went before run_for(200)).
    await page.clock.pause_at(await page.evaluate("Date.now()") + 1000)
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if SEARCHES.search(r.url) else None)
    # Keys further apart in real time than the pause: only the page's clock counts.
    await page.locator(".search").press_sequentially("groceries", delay=300)
    await page.clock.run_for(200)
    assert searches == []
    await page.clock.run_for(100)
    await expect(titles(page)).to_have_text(["Buy groceries"])
    assert len(searches) == 1 and "q=groceries" in searches[0]


async def test_a_superseded_search_is_cancelled(page: Page, live_client: httpx.AsyncClient) -> None:
    """The answer to "gr" is held back; typing on makes it stale: the browser cancels it,
    and its late answer can never replace the newer results."""
    await groceries(live_client)
    await page.reload()

    async def hold_first(route: Route) -> None:
        if "q=gr&" in route.request.url:
            return  # never answered: only a cancel ends it
        await route.fallback()

    await page.route(SEARCHES, hold_first)
    search = page.locator(".search")
    async with page.expect_request(lambda r: "q=gr&" in r.url):
        await search.fill("gr")
    async with page.expect_event("requestfailed", lambda r: "q=gr&" in r.url) as cancelled:
        await search.fill("grow")
    assert (await cancelled.value).failure == "net::ERR_ABORTED"
    await expect(titles(page)).to_have_text(["Grow tomatoes"])
    await settled(page)
    await expect(titles(page)).to_have_text(["Grow tomatoes"])


async def test_marks_are_built_without_markup(page: Page, live_client: httpx.AsyncClient) -> None:
    evil = '<img src=x onerror="window.pwned=1"> groceries <b>bold</b>'
    await make_todos(live_client, evil)
    await open_app(page, "/?q=groceries")
    await expect(titles(page)).to_have_text([evil])
    await expect(page.locator(".todo-list mark")).to_have_text(["groceries"])
    await expect(page.locator(".todo-list img, .todo-list b")).to_have_count(0)
    assert await page.evaluate("window.pwned") is None


async def test_nothing_found_says_so(page: Page, live_client: httpx.AsyncClient) -> None:
    await make_todos(live_client, "apples")
    await open_app(page, "/search?q=pears")
    await expect(page.locator(".empty-view")).to_have_text("No todo matches this search.")
    await expect(todo_items(page)).to_have_count(0)
