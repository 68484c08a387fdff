"""The lists sidebar: counts, create, select, rename, delete, and the list in the URL path."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import (
    Gate,
    add_todos,
    api_request,
    has_class,
    open_app,
    refuse,
    settled,
    todo_items,
    without_live_updates,
)


async def make_list(client: httpx.AsyncClient, name: str, *titles: str) -> int:
    response = await client.post("/api/lists", json={"name": name})
    response.raise_for_status()
    list_id = response.json()["id"]
    for title in titles:
        response = await client.post("/api/todos", json={"title": title, "list_id": list_id})
        response.raise_for_status()
    return list_id


def sidebar_item(page: Page, name: str):
    return page.locator(".lists li").filter(has=page.locator(".list-name", has_text=name))


async def test_sidebar_lists_with_active_counts(page: Page, live_client: httpx.AsyncClient) -> None:
    await make_list(live_client, "Groceries", "milk", "eggs")
    await page.reload()
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox", "Groceries"])
    await expect(page.locator(".lists .list-count")).to_have_text(["0", "2"])
    # The current list's count follows local changes at once.
    await add_todos(page, "one")
    await expect(sidebar_item(page, "Inbox").locator(".list-count")).to_have_text("1")
    await expect(sidebar_item(page, "Inbox")).to_have_class(has_class("current"))
    # A list left behind keeps the count it had on screen.
    await sidebar_item(page, "Groceries").locator("a").click()
    await expect(sidebar_item(page, "Groceries")).to_have_class(has_class("current"))
    await todo_items(page).first.locator(".toggle").check()
    await expect(page.locator(".lists .list-count")).to_have_text(["1", "1"])


async def test_default_list_is_shown_at_root(page: Page) -> None:
    await expect(page.locator(".list-title")).to_have_text("Inbox")
    await expect(page).to_have_title(re.compile("Inbox"))
    link = sidebar_item(page, "Inbox").locator("a")
    await expect(link).to_have_attribute("aria-current", "page")
    await expect(link).to_have_attribute("href", "/lists/1")


async def test_create_list_selects_it_and_survives_reload(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await page.evaluate("window.noReload = true")
    new_list = page.locator(".new-list")
    await new_list.fill("  Work  ")
    async with page.expect_response(lambda r: r.url.endswith("/api/lists")):
        await new_list.press("Enter")
    await expect(new_list).to_have_value("")
    await expect(page).to_have_url(re.compile(r"/lists/2$"))
    await expect(page.locator(".list-title")).to_have_text("Work")
    await add_todos(page, "write report")
    assert await page.evaluate("window.noReload") is True  # the form did not submit
    await page.reload()
    await expect(page.locator(".list-title")).to_have_text("Work")
    await expect(todo_items(page)).to_have_text(["write report"])
    names = [lst["name"] for lst in (await live_client.get("/api/lists")).json()]
    assert names == ["Inbox", "Work"]


async def test_select_list_keeps_filter_and_back_returns(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await make_list(live_client, "Chores", "dishes", "laundry")
    await page.reload()
    await add_todos(page, "inbox task")
    await page.locator('.filters a[href="#/active"]').click()
    await page.evaluate("window.noReload = true")

    await sidebar_item(page, "Chores").locator("a").click()
    await expect(page).to_have_url(re.compile(r"/lists/2#/active$"))
    await expect(page.locator(".list-title")).to_have_text("Chores")
    await expect(todo_items(page)).to_have_text(["dishes", "laundry"])
    await expect(page.locator('.filters a[href="#/active"]')).to_have_class(has_class("selected"))

    await page.go_back()
    await expect(page.locator(".list-title")).to_have_text("Inbox")
    await expect(todo_items(page)).to_have_text(["inbox task"])
    await page.go_forward()
    await expect(todo_items(page)).to_have_text(["dishes", "laundry"])
    assert await page.evaluate("window.noReload") is True  # no full page load on the way


async def test_direct_link_to_a_list(page: Page, live_client: httpx.AsyncClient) -> None:
    list_id = await make_list(live_client, "Trip", "passport")
    await open_app(page, f"/lists/{list_id}")
    await expect(page.locator(".list-title")).to_have_text("Trip")
    await expect(todo_items(page)).to_have_text(["passport"])
    await expect(sidebar_item(page, "Trip")).to_have_class(has_class("current"))


async def test_unknown_list_shows_a_message_and_the_default_list(page: Page) -> None:
    await open_app(page, "/lists/999")
    # Words a person understands, not "There is no list with id 999".
    await expect(page.locator(".notice")).to_contain_text(
        "This list does not exist (any more): it may have been deleted on another device."
    )
    await expect(page.locator(".list-title")).to_have_text("Inbox")
    await expect(page).to_have_url(re.compile(r"/$"))


async def test_rename_inline_with_enter_and_cancel_with_escape(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    item = sidebar_item(page, "Inbox")
    await item.locator(".rename-list").click()
    edit = page.locator(".lists li.editing .list-edit")
    await expect(edit).to_be_focused()
    await expect(edit).to_have_value("Inbox")
    await edit.fill("Escaped")
    await edit.press("Escape")
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox"])

    await page.locator(".lists .rename-list").click()
    await edit.fill("  Personal ")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await edit.press("Enter")
    await expect(page.locator(".lists .list-name")).to_have_text(["Personal"])
    await expect(page.locator(".list-title")).to_have_text("Personal")
    assert (await live_client.get("/api/lists/1")).json()["name"] == "Personal"


async def test_delete_list_asks_first_and_leaves_it(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    list_id = await make_list(live_client, "Old stuff", "x")
    await open_app(page, f"/lists/{list_id}")
    dialog = page.locator("dialog.confirm")

    await sidebar_item(page, "Old stuff").locator(".delete-list").click()
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Old stuff")
    await dialog.locator(".confirm-cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(sidebar_item(page, "Old stuff")).to_have_count(1)

    await sidebar_item(page, "Old stuff").locator(".delete-list").click()
    async with page.expect_response(lambda r: r.request.method == "DELETE"):
        await dialog.locator(".confirm-ok").click()
    await expect(sidebar_item(page, "Old stuff")).to_have_count(0)
    await expect(page).to_have_url(re.compile(r"/$"))  # back on the default list
    await expect(page.locator(".list-title")).to_have_text("Inbox")
    assert (await live_client.get(f"/api/lists/{list_id}")).status_code == 404
    # Inbox is the only list now: it is not offered for deletion any more.
    await expect(sidebar_item(page, "Inbox").locator(".delete-list")).to_be_disabled()


async def test_escape_in_the_confirm_dialog_keeps_the_list(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await make_list(live_client, "Keep me")
    await page.reload()
    await sidebar_item(page, "Keep me").locator(".delete-list").click()
    await expect(page.locator("dialog.confirm .confirm-cancel")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.locator("dialog.confirm")).to_be_hidden()
    await add_todos(page, "sentinel")  # a later request: a stray DELETE would be earlier
    assert (await live_client.get("/api/lists/2")).status_code == 200


ONLY_LIST_HINT = "Your only list cannot be deleted. Create another list first."


async def test_the_only_list_is_not_offered_for_deletion_and_says_why(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    delete = sidebar_item(page, "Inbox").locator(".delete-list")
    await expect(delete).to_be_disabled()
    await expect(delete).to_have_accessible_description(ONLY_LIST_HINT)
    await expect(delete).to_have_attribute("title", ONLY_LIST_HINT)
    # Still reachable from the keyboard (so the reason can be heard), but it does nothing.
    await delete.focus()
    await expect(delete).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("dialog.confirm")).to_be_hidden()
    await add_todos(page, "sentinel")  # a later request: a stray DELETE would be earlier
    assert (await live_client.get("/api/lists/1")).status_code == 200

    # With a second list, both can be deleted.
    await page.locator(".new-list").fill("Work")
    async with page.expect_response(lambda r: r.url.endswith("/api/lists")):
        await page.locator(".new-list").press("Enter")
    await expect(delete).to_be_enabled()
    await expect(delete).to_have_accessible_description("")
    await expect(sidebar_item(page, "Work").locator(".delete-list")).to_be_enabled()


async def test_the_server_refusing_to_delete_the_last_list_is_rolled_back(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    """Another client deleted the other list meanwhile: this page still offers deleting
    "Work", and the server refuses (409, last list). The list stays, the page comes back
    to it, shows the server's words, and catches up with the lists as they are."""
    list_id = await make_list(live_client, "Work", "report")
    await without_live_updates(page)  # unseen: the page learns it from the refusal
    await open_app(page, f"/lists/{list_id}")
    assert (await live_client.delete("/api/lists/1")).status_code == 204  # Inbox, elsewhere

    await sidebar_item(page, "Work").locator(".delete-list").click()
    async with page.expect_response(lambda r: r.request.method == "DELETE") as answer:
        await page.locator("dialog.confirm .confirm-ok").click()
    assert (await answer.value).status == 409
    await expect(page.locator(".notice")).to_contain_text(
        "Could not delete the list “Work”: This is your only list"
    )
    await expect(page.locator(".lists .list-name")).to_have_text(["Work"])
    await expect(sidebar_item(page, "Work").locator(".delete-list")).to_be_disabled()
    await expect(page).to_have_url(re.compile(rf"/lists/{list_id}$"))
    await expect(todo_items(page)).to_have_text(["report"])
    assert (await live_client.get(f"/api/lists/{list_id}")).status_code == 200


async def test_with_no_list_at_all_the_app_creates_none_itself(
    page: Page, live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """The server owns "there is always a list"; should it have none, the app says so and
    the user makes one."""
    async with clean_db.begin() as conn:
        await conn.execute(text("DELETE FROM todo_lists"))
    await open_app(page)
    await expect(page.locator(".notice")).to_contain_text("There are no lists yet.")
    await expect(page.locator(".lists li")).to_have_count(0)
    new_todo = page.locator(".new-todo")
    await new_todo.fill("homeless")
    await new_todo.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("Create a list first")
    await expect(new_todo).to_have_value("homeless")  # given back
    await settled(page)
    assert (await live_client.get("/api/lists")).json() == []

    await page.locator(".new-list").fill("Home")
    await page.locator(".new-list").press("Enter")
    await expect(page.locator(".list-title")).to_have_text("Home")
    await expect(page.locator(".todoapp")).to_have_attribute("aria-busy", "false")
    await new_todo.press("Enter")
    await expect(todo_items(page)).to_have_text(["homeless"])


async def test_duplicate_list_name_is_explained_and_text_kept(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    new_list = page.locator(".new-list")
    await new_list.fill("Inbox")
    await new_list.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("already a list named “Inbox”")
    await expect(new_list).to_have_value("Inbox")  # given back for another try
    await expect(page.locator(".lists li")).to_have_count(1)
    await settled(page)
    assert len((await live_client.get("/api/lists")).json()) == 1


async def test_refused_rename_is_rolled_back(page: Page, live_client: httpx.AsyncClient) -> None:
    await make_list(live_client, "Work")
    await page.reload()
    await sidebar_item(page, "Work").locator(".rename-list").click()
    edit = page.locator(".lists li.editing .list-edit")
    await edit.fill("Inbox")
    await edit.press("Enter")
    await expect(page.locator(".notice")).to_contain_text(
        "Could not rename the list to “Inbox”: there is already a list named “Inbox”."
    )
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox", "Work"])


async def test_refused_list_delete_puts_it_back(page: Page, live_client: httpx.AsyncClient) -> None:
    list_id = await make_list(live_client, "Sticky", "still here")
    await open_app(page, f"/lists/{list_id}")
    await refuse(page, api_request("DELETE", r"/api/lists/\d+"), 503, "Try again later.")
    await sidebar_item(page, "Sticky").locator(".delete-list").click()
    await page.locator("dialog.confirm .confirm-ok").click()
    await expect(page.locator(".notice")).to_contain_text(
        "Could not delete the list “Sticky”: Try again later."
    )
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox", "Sticky"])
    # The app had left the list at once; it comes back to it.
    await expect(page).to_have_url(re.compile(rf"/lists/{list_id}$"))
    await expect(page.locator(".list-title")).to_have_text("Sticky")
    await expect(todo_items(page)).to_have_text(["still here"])


async def test_a_slow_answer_for_a_list_left_behind_is_ignored(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await make_list(live_client, "Slow", "slow item")
    await make_list(live_client, "Fast", "fast item")
    await page.reload()
    gate = await Gate(api_request("GET", r"/api/todos\?list_id=2&.*")).install(page)
    await sidebar_item(page, "Slow").locator("a").click()
    await sidebar_item(page, "Fast").locator("a").click()
    await expect(todo_items(page)).to_have_text(["fast item"])
    async with page.expect_response(lambda r: "list_id=2" in r.url):
        gate.open()
    await settled(page)
    await expect(todo_items(page)).to_have_text(["fast item"])
    await expect(page.locator(".list-title")).to_have_text("Fast")


async def test_rename_saves_on_blur_and_focus_stays_where_clicked(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await page.locator(".lists .rename-list").click()
    await page.locator(".lists li.editing .list-edit").fill("Home")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await page.locator(".new-todo").click()
    await expect(page.locator(".lists .list-name")).to_have_text(["Home"])
    await expect(page.locator(".new-todo")).to_be_focused()
    assert (await live_client.get("/api/lists/1")).json()["name"] == "Home"
