"""The TodoMVC behaviours, one test each, in a real Chromium against the real backend."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from .conftest import (
    TODO_ITEM,
    Gate,
    add_todos,
    api_request,
    has_class,
    open_app,
    server_todos,
    settled,
    todo_items,
)


async def test_markup_uses_current_spec_classes_not_old_ids(page: Page) -> None:
    for selector in [".todoapp", ".new-todo", ".todo-list", ".footer", ".todo-count"]:
        await expect(page.locator(selector)).to_have_count(1)
    await expect(page.locator(".filters a")).to_have_count(3)
    for old_id in [
        "todoapp",
        "new-todo",
        "main",
        "todo-list",
        "footer",
        "todo-count",
        "filters",
        "clear-completed",
    ]:
        await expect(page.locator(f"#{old_id}")).to_have_count(0)


async def test_new_todo_is_focused_on_load(page: Page) -> None:
    await expect(page.locator(".new-todo")).to_be_focused()


async def test_main_and_footer_hidden_when_the_list_is_empty(page: Page) -> None:
    await expect(page.locator(".main")).to_be_hidden()
    await expect(page.locator(".footer")).to_be_hidden()
    await add_todos(page, "first")
    await expect(page.locator(".main")).to_be_visible()
    await expect(page.locator(".footer")).to_be_visible()
    await todo_items(page).first.hover()
    await page.locator(".destroy").click()
    await expect(page.locator(".main")).to_be_hidden()
    await expect(page.locator(".footer")).to_be_hidden()


async def test_add_trims_and_puts_new_todos_at_the_end(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "  buy milk  ", "walk the dog", "call mum")
    await expect(todo_items(page)).to_have_text(["buy milk", "walk the dog", "call mum"])
    titles = [t["title"] for t in await server_todos(live_client)]
    assert titles == ["buy milk", "walk the dog", "call mum"]


async def test_empty_or_blank_input_adds_nothing(page: Page) -> None:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    new_todo = page.locator(".new-todo")
    await new_todo.press("Enter")
    await new_todo.fill("    ")
    await new_todo.press("Enter")
    await add_todos(page, "real one")  # a request that does go out, to wait on
    await expect(todo_items(page)).to_have_text(["real one"])
    assert len(posts) == 1


async def test_input_is_cleared_at_once_not_after_the_server_answers(page: Page) -> None:
    gate = await Gate(api_request("POST", "/api/todos")).install(page)
    new_todo = page.locator(".new-todo")
    await new_todo.fill("slow server")
    await new_todo.press("Enter")
    # The POST is still held: the input is already empty and the todo already shown.
    await expect(new_todo).to_have_value("")
    await expect(todo_items(page)).to_have_text(["slow server"])
    async with page.expect_response(lambda r: r.request.method == "POST"):
        gate.open()
    await expect(todo_items(page).first).to_have_attribute("data-id", "1")


async def test_toggle_one(page: Page, live_client: httpx.AsyncClient) -> None:
    await add_todos(page, "a", "b")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await todo_items(page).nth(1).locator(".toggle").check()
    await expect(todo_items(page).nth(1)).to_have_class(has_class("completed"))
    await expect(todo_items(page).nth(0)).not_to_have_class(has_class("completed"))
    assert [t["completed"] for t in await server_todos(live_client)] == [False, True]
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await todo_items(page).nth(1).locator(".toggle").uncheck()
    await expect(todo_items(page).nth(1)).not_to_have_class(has_class("completed"))
    assert [t["completed"] for t in await server_todos(live_client)] == [False, False]


async def test_toggle_all_and_its_checkbox_follow_the_items(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "a", "b", "c")
    toggle_all = page.locator(".toggle-all")
    await expect(toggle_all).not_to_be_checked()
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await toggle_all.check()
    await expect(page.locator(".todo-list li.completed")).to_have_count(3)
    await expect(page.locator(".todo-count")).to_have_text("0 items left")
    await expect(page.locator(".todo-list li.pending")).to_have_count(0)
    await settled(page)
    assert await _all_completed(live_client) == [True, True, True]

    # Unchecking one item unchecks toggle-all; checking it again checks toggle-all.
    await todo_items(page).nth(0).locator(".toggle").uncheck()
    await expect(toggle_all).not_to_be_checked()
    await todo_items(page).nth(0).locator(".toggle").check()
    await expect(toggle_all).to_be_checked()

    await toggle_all.uncheck()
    await expect(page.locator(".todo-list li.completed")).to_have_count(0)
    await settled(page)
    assert await _all_completed(live_client) == [False, False, False]


async def _all_completed(client: httpx.AsyncClient) -> list[bool]:
    return [t["completed"] for t in await server_todos(client)]


async def test_destroy_deletes(page: Page, live_client: httpx.AsyncClient) -> None:
    await add_todos(page, "keep", "remove me")
    item = todo_items(page).nth(1)
    await item.hover()
    async with page.expect_response(lambda r: r.request.method == "DELETE"):
        await item.locator(".destroy").click()
    await expect(todo_items(page)).to_have_text(["keep"])
    assert [t["title"] for t in await server_todos(live_client)] == ["keep"]


async def test_double_click_edits_and_enter_saves_trimmed(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "typo")
    item = todo_items(page).first
    await item.locator("label").dblclick()
    await expect(item).to_have_class(has_class("editing"))
    edit = item.locator(".edit")
    await expect(edit).to_be_focused()
    await expect(edit).to_have_value("typo")
    await edit.fill("  fixed  ")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await edit.press("Enter")
    await expect(item).not_to_have_class(has_class("editing"))
    await expect(item.locator("label")).to_have_text("fixed")
    assert [t["title"] for t in await server_todos(live_client)] == ["fixed"]


async def test_blur_saves_the_edit(page: Page, live_client: httpx.AsyncClient) -> None:
    await add_todos(page, "before")
    item = todo_items(page).first
    await item.locator("label").dblclick()
    await item.locator(".edit").fill("after")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await page.locator(".new-todo").click()  # focus leaves the edit field
    await expect(item.locator("label")).to_have_text("after")
    await expect(page.locator(".new-todo")).to_be_focused()  # the click keeps its focus
    assert [t["title"] for t in await server_todos(live_client)] == ["after"]


async def test_editing_to_empty_deletes(page: Page, live_client: httpx.AsyncClient) -> None:
    await add_todos(page, "one", "two")
    item = todo_items(page).first
    await item.locator("label").dblclick()
    await item.locator(".edit").fill("   ")
    async with page.expect_response(lambda r: r.request.method == "DELETE"):
        await item.locator(".edit").press("Enter")
    await expect(todo_items(page)).to_have_text(["two"])
    assert [t["title"] for t in await server_todos(live_client)] == ["two"]


async def test_escape_cancels_and_the_following_blur_does_not_save(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
    await add_todos(page, "original")
    item = todo_items(page).first
    await item.locator("label").dblclick()
    await item.locator(".edit").fill("discarded")
    await item.locator(".edit").press("Escape")
    await expect(item).not_to_have_class(has_class("editing"))
    await expect(item.locator("label")).to_have_text("original")
    await page.locator(".new-todo").click()  # any later blur must not save either
    await add_todos(page, "later")  # a request that surely comes after any stray PATCH
    assert patches == []
    assert [t["title"] for t in await server_todos(live_client)] == ["original", "later"]


async def test_other_controls_are_hidden_while_editing(page: Page) -> None:
    await add_todos(page, "one", "two")
    item = todo_items(page).first
    await item.locator("label").dblclick()
    await expect(item.locator(".edit")).to_be_visible()
    await expect(item.locator(".toggle")).to_be_hidden()
    await expect(item.locator(".destroy")).to_be_hidden()
    await expect(item.locator("label")).to_be_hidden()
    await expect(todo_items(page).nth(1).locator(".toggle")).to_be_visible()


async def test_counter_text_and_plural(page: Page) -> None:
    count = page.locator(".todo-count")
    await add_todos(page, "a")
    await expect(count).to_have_text("1 item left")
    await expect(count.locator("strong")).to_have_text("1")
    await add_todos(page, "b")
    await expect(count).to_have_text("2 items left")
    await todo_items(page).nth(0).locator(".toggle").check()
    await todo_items(page).nth(1).locator(".toggle").check()
    await expect(count).to_have_text("0 items left")


async def test_clear_completed_shown_only_when_needed_and_clears(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "a", "b", "c")
    clear = page.locator(".clear-completed")
    await expect(clear).to_be_hidden()
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await todo_items(page).nth(1).locator(".toggle").check()
    await expect(clear).to_be_visible()
    async with page.expect_response(lambda r: r.request.method == "DELETE"):
        await clear.click()
    await expect(todo_items(page)).to_have_text(["a", "c"])
    await expect(clear).to_be_hidden()
    assert [t["title"] for t in await server_todos(live_client)] == ["a", "c"]


async def test_filters_routes_selected_link_back_and_reload(page: Page) -> None:
    await add_todos(page, "active one", "done one")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await todo_items(page).nth(1).locator(".toggle").check()
    all_link = page.locator('.filters a[href="#/"]')
    active_link = page.locator('.filters a[href="#/active"]')
    completed_link = page.locator('.filters a[href="#/completed"]')
    await expect(all_link).to_have_class(has_class("selected"))  # no hash: All

    start = await page.evaluate("history.length")
    await active_link.click()
    await expect(page).to_have_url(re.compile(r"/#/active$"))
    await expect(todo_items(page)).to_have_text(["active one"])
    await expect(active_link).to_have_class(has_class("selected"))
    await expect(all_link).not_to_have_class(has_class("selected"))

    await completed_link.click()
    await expect(todo_items(page)).to_have_text(["done one"])
    await expect(completed_link).to_have_class(has_class("selected"))
    assert await page.evaluate("history.length") == start + 2  # one entry per click

    await page.reload()
    await expect(todo_items(page)).to_have_text(["done one"])
    await expect(completed_link).to_have_class(has_class("selected"))

    await page.go_back()
    await expect(todo_items(page)).to_have_text(["active one"])
    await expect(active_link).to_have_class(has_class("selected"))
    await page.go_back()
    await expect(todo_items(page)).to_have_text(["active one", "done one"])
    await expect(all_link).to_have_class(has_class("selected"))


async def test_new_todo_while_filtered_on_completed_is_saved_but_not_shown(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await open_app(page, "/#/completed")
    await add_todos(page, "hidden for now")
    await expect(todo_items(page)).to_have_count(0)
    await expect(page.locator(".todo-count")).to_have_text("1 item left")
    assert [t["title"] for t in await server_todos(live_client)] == ["hidden for now"]


async def test_item_urls_are_patched_by_id(page: Page) -> None:
    await add_todos(page, "x")
    async with page.expect_request(api_request("PATCH", TODO_ITEM)) as info:
        await todo_items(page).first.locator(".toggle").check()
    request = await info.value
    assert request.url.endswith("/api/todos/1")
    assert request.post_data_json == {"completed": True}


async def test_an_edit_without_changes_sends_nothing(page: Page) -> None:
    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
    await add_todos(page, "same")
    item = todo_items(page).first
    await item.locator("label").dblclick()
    await item.locator(".edit").press("Enter")
    await expect(item).not_to_have_class(has_class("editing"))
    await add_todos(page, "later")  # a request that surely comes after any stray PATCH
    assert patches == []
