"""Drag to reorder (mouse and touch, Pointer Events), Alt+↑/↓ from the keyboard, both
announced to screen readers; optimistic and rolled back when refused; dropping a todo on a
list of the sidebar moves it there."""

from __future__ import annotations

import asyncio
import json

import httpx
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from .conftest import (
    TODO_ITEM,
    add_todos,
    api_request,
    api_response,
    open_app,
    refuse,
    server_todos,
    settled,
    todo_items,
)


def titles(page: Page):
    return todo_items(page).locator("label")


async def server_titles(client: httpx.AsyncClient, list_id: int = 1) -> list[str]:
    return [t["title"] for t in await server_todos(client, list_id)]


async def test_a_queued_move_counts_as_on_its_way(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    """Moves reach the server one after another; one waiting for the move before it is on
    its way too (data-requests, the page's "saving" count, which tests wait on). It was not:
    between two moves the page looked settled with a move still to send, and a test that
    waited for quiet then read the server's order too early (seen once in CI)."""
    await add_todos(page, "a", "b", "c")
    held, release = asyncio.Event(), asyncio.Event()
    is_move = api_request("PATCH", TODO_ITEM)

    async def hold_first_move(route: Route) -> None:
        if not is_move(route.request) or held.is_set():
            await route.fallback()
            return
        held.set()
        response = await route.fetch()
        await release.wait()
        await route.fulfill(response=response)

    await page.route("**/api/**", hold_first_move)
    await todo_items(page).first.locator("label").focus()
    await page.keyboard.press("Alt+ArrowDown")
    await held.wait()
    html = page.locator("html")
    one_move = int(await html.get_attribute("data-requests") or "0")
    await page.keyboard.press("Alt+ArrowDown")  # queued behind the held one
    await expect(html).to_have_attribute("data-requests", str(one_move + 1))
    release.set()
    await expect(titles(page)).to_have_text(["b", "c", "a"])
    await settled(page)
    assert await server_titles(live_client) == ["b", "c", "a"]


async def test_an_older_state_told_after_a_move_does_not_undo_it(
    context: BrowserContext, live_client: httpx.AsyncClient
) -> None:
    """The live feed tells a todo's states in commit order, but a stream can lag behind the
    page's own answers: the state before our move can arrive after the move was saved. The
    page took its order back then (a move did not record its version), and the next Alt+↑
    went the wrong way (seen once in CI). Here the feed is played by the test: it tells
    "a"'s state from before the move once the move is saved, then a marker todo."""
    page = await context.new_page()
    play, stale = asyncio.Event(), {}

    async def feed(route: Route) -> None:
        if play.is_set():  # (a reconnection after the played stream: nothing more)
            await route.abort()
            return
        await play.wait()
        marker = {**stale, "id": 10**9, "title": "marker", "order": 10**6}
        body = sse("ready", 1, {"id": 1}) + sse("todos.updated", 2, event(stale))
        body += sse("todos.created", 3, event(marker, "todos.created"))
        await route.fulfill(status=200, content_type="text/event-stream", body=body)

    await page.route("**/api/events*", feed)
    await open_app(page)
    await add_todos(page, "a", "b", "c")
    stale.update((await server_todos(live_client))[0])  # "a" before the move
    await todo_items(page).first.locator("label").focus()
    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await page.keyboard.press("Alt+ArrowDown")
    await settled(page)
    play.set()
    await expect(titles(page)).to_have_text(["b", "a", "c", "marker"])  # the feed was read
    await todo_items(page).nth(1).locator("label").focus()
    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await page.keyboard.press("Alt+ArrowUp")
    await settled(page)
    assert await server_titles(live_client) == ["a", "b", "c"]


def sse(kind: str, event_id: int, data: dict) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"


def event(todo: dict, kind: str = "todos.updated") -> dict:
    at = todo["updated_at"]
    return {"id": 0, "kind": kind, "list_id": todo["list_id"], "at": at, "todos": [todo]}


async def centre(page: Page, selector_or_locator) -> tuple[float, float]:
    box = await selector_or_locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def test_alt_arrows_move_a_todo_and_say_so(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "a", "b", "c")
    first = todo_items(page).first.locator("label")
    await first.focus()
    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await page.keyboard.press("Alt+ArrowDown")
    await expect(titles(page)).to_have_text(["b", "a", "c"])
    await expect(page.locator(".announcer")).to_have_text("Moved “a” to position 2 of 3.")
    await expect(page.locator(".announcer")).to_have_attribute("aria-live", "assertive")
    await expect(todo_items(page).nth(1).locator("label")).to_be_focused()  # still on "a"
    await page.keyboard.press("Alt+ArrowDown")
    await expect(titles(page)).to_have_text(["b", "c", "a"])
    await expect(page.locator(".announcer")).to_have_text("Moved “a” to position 3 of 3.")
    await page.keyboard.press("Alt+ArrowDown")  # already last: nothing moves
    await page.keyboard.press("Alt+ArrowUp")
    await expect(titles(page)).to_have_text(["b", "a", "c"])
    await settled(page)
    assert await server_titles(live_client) == ["b", "a", "c"]
    await page.reload()
    await expect(titles(page)).to_have_text(["b", "a", "c"])


async def drag(page: Page, handle, to_y: float, steps: int = 8) -> None:
    x, y = await centre(page, handle)
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x, to_y, steps=steps)
    await page.mouse.up()


async def test_drag_with_the_mouse(page: Page, live_client: httpx.AsyncClient) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Security Policy" in m.text else 0)
    await add_todos(page, "a", "b", "c", "d")
    _, top = await centre(page, todo_items(page).first)
    await todo_items(page).nth(3).hover()
    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await drag(page, todo_items(page).nth(3).locator(".drag-handle"), top - 5)
    await expect(titles(page)).to_have_text(["d", "a", "b", "c"])
    await expect(page.locator(".announcer")).to_have_text("Moved “d” to position 1 of 4.")
    # Dropped: no transform left behind.
    for i in range(4):
        await expect(todo_items(page).nth(i)).to_have_css("transform", "none")

    _, third = await centre(page, todo_items(page).nth(2))
    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await drag(page, todo_items(page).first.locator(".drag-handle"), third + 5)
    await expect(titles(page)).to_have_text(["a", "b", "d", "c"])
    await settled(page)
    assert await server_titles(live_client) == ["a", "b", "d", "c"]
    assert violations == []  # the drag moves elements through the CSSOM, which CSP allows


async def test_drag_with_a_finger(
    browser: Browser, live_server: str, live_client: httpx.AsyncClient
) -> None:
    """Real touch events (the DevTools protocol's Input.dispatchTouchEvent), which the
    browser turns into pointer events of type "touch"."""
    for title in ["a", "b", "c"]:
        await live_client.post("/api/todos", json={"title": title})
    context = await browser.new_context(
        base_url=live_server, viewport={"width": 400, "height": 700}, has_touch=True
    )
    try:
        page = await open_app(await context.new_page())
        types: list[str] = []
        await page.expose_function("seen", lambda kind: types.append(kind))
        await page.evaluate(
            "document.addEventListener('pointerdown', (e) => window.seen(e.pointerType))"
        )
        cdp = await context.new_cdp_session(page)
        x, y = await centre(page, todo_items(page).first.locator(".drag-handle"))
        _, below = await centre(page, todo_items(page).nth(2))

        async def touch(kind: str, at_y: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": x, "y": at_y}]
            await cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        await touch("touchStart", y)
        for step in range(1, 9):
            await touch("touchMove", y + (below + 5 - y) * step / 8)
        async with page.expect_response(api_response("PATCH", TODO_ITEM)):
            await touch("touchEnd", below)
        await expect(titles(page)).to_have_text(["b", "c", "a"])
        assert types == ["touch"]
        await settled(page)
        assert await server_titles(live_client) == ["b", "c", "a"]
    finally:
        await context.close()


async def test_a_refused_move_is_rolled_back(page: Page, live_client: httpx.AsyncClient) -> None:
    await add_todos(page, "a", "b", "c")
    await refuse(page, api_request("PATCH", TODO_ITEM), status=503, detail="Try later.")
    await todo_items(page).nth(2).locator("label").focus()
    await page.keyboard.press("Alt+ArrowUp")
    await expect(page.locator(".notice")).to_contain_text("Could not move “c”: Try later.")
    await expect(titles(page)).to_have_text(["a", "b", "c"])
    await expect(page.locator(".announcer")).to_have_text(
        "“c” is back at its place: the move was not saved."
    )
    assert await server_titles(live_client) == ["a", "b", "c"]


async def test_dropping_a_todo_on_a_list_moves_it_there(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    work = (await live_client.post("/api/lists", json={"name": "Work"})).json()["id"]
    await page.reload()
    await add_todos(page, "a", "report", "c")
    target = page.locator(".lists li", has_text="Work")
    _, target_y = await centre(page, target)
    tx, _ = await centre(page, target)
    handle = todo_items(page).nth(1).locator(".drag-handle")
    x, y = await centre(page, handle)
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move((x + tx) / 2, (y + target_y) / 2, steps=4)
    await page.mouse.move(tx, target_y, steps=4)
    await expect(target).to_have_class("drop-target")
    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await page.mouse.up()
    await expect(titles(page)).to_have_text(["a", "c"])
    await expect(target.locator(".list-count")).to_have_text("1")
    await settled(page)
    assert await server_titles(live_client, work) == ["report"]
    await target.locator("a").click()
    await expect(titles(page)).to_have_text(["report"])


async def test_order_is_fixed_in_views_across_lists_and_searches(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "milk one", "milk two")
    await page.goto("/?q=milk")
    await expect(titles(page)).to_have_text(["milk one", "milk two"])
    await expect(todo_items(page).first.locator(".drag-handle")).to_be_hidden()
    await todo_items(page).first.locator("label").focus()
    await page.keyboard.press("Alt+ArrowDown")
    await expect(page.locator(".announcer")).to_have_text(
        "Todos can be moved in a list, without a search."
    )
    await expect(titles(page)).to_have_text(["milk one", "milk two"])
