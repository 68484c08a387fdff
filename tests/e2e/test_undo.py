"""Undo: deleting a todo, clearing completed and deleting a list show "Undo" for 8 seconds
(and Ctrl+Z while it shows); undo brings back exactly what was there, also after a reload,
since the delete went to the server's trash."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from .conftest import (
    TODO_ITEM,
    api_response,
    open_app,
    server_todos,
    settled,
    todo_items,
)

UNDO = r"/api/(todos|lists)(/\d+)?/restore"
KEPT = ("id", "list_id", "title", "completed", "order", "due", "notes")


def titles(page: Page):
    return todo_items(page).locator("label")


def kept(todos: list[dict]) -> list[tuple]:
    return [tuple(t[f] for f in KEPT) for t in todos]


async def three_todos(client: httpx.AsyncClient) -> list[dict]:
    body = [
        {"title": "a"},
        {"title": "b", "completed": True, "due": "2031-05-06", "notes": "see\n  notes"},
        {"title": "c"},
    ]
    response = await client.post("/api/todos", json=body)
    response.raise_for_status()
    return response.json()


async def delete(page: Page, index: int) -> None:
    item = todo_items(page).nth(index)
    await item.hover()
    async with page.expect_response(api_response("DELETE", TODO_ITEM)):
        await item.locator(".destroy").click()


async def test_undo_brings_a_deleted_todo_back_exactly(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await three_todos(live_client)
    before = await server_todos(live_client)
    await page.reload()
    await delete(page, 1)
    notice = page.locator(".undo")
    await expect(notice).to_have_text(re.compile("Deleted “b”.\\s*Undo"))
    await expect(notice).to_have_attribute("role", "status")
    await expect(titles(page)).to_have_text(["a", "c"])
    async with page.expect_response(api_response("POST", UNDO)):
        await notice.get_by_role("button", name="Undo").click()
    await expect(titles(page)).to_have_text(["a", "b", "c"])
    await expect(todo_items(page).nth(1).locator(".toggle")).to_be_checked()
    await expect(notice).to_be_hidden()
    assert kept(await server_todos(live_client)) == kept(before)


async def test_ctrl_z_undoes_while_the_notice_shows(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await three_todos(live_client)
    await page.reload()
    await delete(page, 0)
    # In a text field Ctrl+Z is the field's own undo.
    await page.locator(".new-todo").focus()
    await page.keyboard.press("Control+z")
    await expect(page.locator(".undo")).to_be_visible()
    await page.locator(".list-title").click()
    async with page.expect_response(api_response("POST", UNDO)):
        await page.keyboard.press("Control+z")
    await expect(titles(page)).to_have_text(["a", "b", "c"])
    await expect(page.locator(".undo")).to_be_hidden()


async def test_undo_clear_completed(page: Page, live_client: httpx.AsyncClient) -> None:
    before = await three_todos(live_client)
    await live_client.patch(before[2]["url"], json={"completed": True})
    before = await server_todos(live_client)
    await page.reload()
    async with page.expect_response(lambda r: r.request.method == "DELETE"):
        await page.locator(".clear-completed").click()
    await expect(titles(page)).to_have_text(["a"])
    await expect(page.locator(".undo-text")).to_have_text("Cleared 2 completed todos.")
    async with page.expect_response(api_response("POST", UNDO)):
        await page.get_by_role("button", name="Undo").click()
    await expect(titles(page)).to_have_text(["a", "b", "c"])
    assert kept(await server_todos(live_client)) == kept(before)


async def test_undo_a_deleted_list(page: Page, live_client: httpx.AsyncClient) -> None:
    work = (await live_client.post("/api/lists", json={"name": "Work"})).json()["id"]
    for title in ["report", "slides"]:
        await live_client.post("/api/todos", json={"title": title, "list_id": work})
    before = await server_todos(live_client, work)
    await open_app(page, f"/lists/{work}")
    await page.locator(".lists li", has_text="Work").locator(".delete-list").click()
    async with page.expect_response(lambda r: r.request.method == "DELETE"):
        await page.locator("dialog.confirm .confirm-ok").click()
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox"])
    await expect(page.locator(".undo-text")).to_have_text("Deleted the list “Work”.")
    async with page.expect_response(api_response("POST", UNDO)):
        await page.get_by_role("button", name="Undo").click()
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox", "Work"])
    await expect(page).to_have_url(re.compile(rf"/lists/{work}$"))
    await expect(titles(page)).to_have_text(["report", "slides"])
    assert kept(await server_todos(live_client, work)) == kept(before)


async def test_undo_still_works_after_a_reload(page: Page, live_client: httpx.AsyncClient) -> None:
    await three_todos(live_client)
    before = await server_todos(live_client)
    await page.reload()
    await delete(page, 1)
    await page.reload()  # the tab's memory is gone; the server's trash is not
    await expect(titles(page)).to_have_text(["a", "c"])
    await expect(page.locator(".undo-text")).to_have_text("Deleted “b”.")
    async with page.expect_response(api_response("POST", UNDO)):
        await page.get_by_role("button", name="Undo").click()
    await expect(titles(page)).to_have_text(["a", "b", "c"])
    assert kept(await server_todos(live_client)) == kept(before)


async def test_the_notice_goes_after_8_seconds(page: Page, live_client: httpx.AsyncClient) -> None:
    """The page's clock is driven by the test: 8 seconds pass without waiting for them."""
    await three_todos(live_client)
    await page.clock.install()
    await open_app(page)
    await delete(page, 0)
    # The installed clock also moves with real time (a reload takes some): 2 s of margin.
    await page.clock.run_for(6_000)
    await expect(page.locator(".undo")).to_be_visible()
    await page.reload()  # the notice comes back for the time it has left
    await expect(page.locator(".undo")).to_be_visible()
    await page.clock.run_for(2_500)
    await expect(page.locator(".undo")).to_be_hidden()
    await page.keyboard.press("Control+z")  # too late: nothing to undo
    await page.reload()
    await expect(page.locator(".undo")).to_be_hidden()
    await settled(page)
    assert [t["title"] for t in await server_todos(live_client)] == ["b", "c"]
