"""Keyboard shortcuts, and the `?` dialog that lists them."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from .conftest import TODO_ITEM, add_todos, api_response, has_class, todo_items


def label(page: Page, index: int):
    return todo_items(page).nth(index).locator("label")


async def leave_fields(page: Page) -> None:
    """Focus on nothing in particular (shortcuts do not fire while typing in a field)."""
    await page.locator(".list-title").click()


async def test_question_mark_lists_the_shortcuts(page: Page) -> None:
    await leave_fields(page)
    await page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(help_dialog).to_be_visible()
    for words in ["New todo", "Search", "Next and previous todo", "Delete the todo", "lists"]:
        await expect(help_dialog).to_contain_text(words)
    await expect(help_dialog.get_by_role("button", name="Close")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(help_dialog).to_be_hidden()
    # The same list from a button, for those who do not know about "?".
    await page.get_by_role("button", name="Keyboard shortcuts").click()
    await expect(help_dialog).to_be_visible()
    await help_dialog.get_by_role("button", name="Close").click()
    await expect(help_dialog).to_be_hidden()


async def test_n_and_slash_go_to_the_fields_without_typing_there(page: Page) -> None:
    await leave_fields(page)
    await page.keyboard.press("/")
    await expect(page.locator(".search")).to_be_focused()
    await expect(page.locator(".search")).to_have_value("")
    await page.keyboard.type("n")  # typing in a field is typing, not a shortcut
    await expect(page.locator(".search")).to_have_value("n")
    await page.locator(".search").fill("")
    await leave_fields(page)
    await page.keyboard.press("n")
    await expect(page.locator(".new-todo")).to_be_focused()
    await expect(page.locator(".new-todo")).to_have_value("")


async def test_j_k_x_e_o_move_toggle_edit_and_open(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "one", "two", "three")
    await leave_fields(page)
    await page.keyboard.press("j")
    await expect(label(page, 0)).to_be_focused()
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    await page.keyboard.press("j")  # stays on the last
    await expect(label(page, 2)).to_be_focused()
    await page.keyboard.press("k")
    await expect(label(page, 1)).to_be_focused()

    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await page.keyboard.press("x")
    await expect(todo_items(page).nth(1)).to_have_class(has_class("completed"))
    assert (await live_client.get("/api/todos/2")).json()["completed"] is True

    await page.keyboard.press("e")
    edit = todo_items(page).nth(1).locator(".edit")
    await expect(edit).to_be_focused()
    await page.keyboard.type(" more")
    await page.keyboard.press("Enter")
    await expect(label(page, 1)).to_have_text("two more")

    await page.keyboard.press("o")
    await expect(todo_items(page).nth(1).locator(".details")).to_be_visible()
    await expect(todo_items(page).nth(1).locator(".due-input")).to_be_focused()


async def test_hash_and_delete_remove_the_todo_with_undo(page: Page) -> None:
    await add_todos(page, "one", "two", "three")
    await leave_fields(page)
    await page.keyboard.press("j")
    async with page.expect_response(api_response("DELETE", TODO_ITEM)):
        await page.keyboard.press("#")
    await expect(todo_items(page).locator("label")).to_have_text(["two", "three"])
    await expect(page.locator(".undo-text")).to_have_text("Deleted “one”.")
    await expect(label(page, 0)).to_be_focused()  # the keyboard user keeps their place
    async with page.expect_response(api_response("DELETE", TODO_ITEM)):
        await page.keyboard.press("Delete")
    await expect(todo_items(page).locator("label")).to_have_text(["three"])
    await expect(page.locator(".undo-text")).to_have_text("Deleted “two”.")


async def test_g_then_l_goes_to_the_lists(page: Page, live_client: httpx.AsyncClient) -> None:
    await live_client.post("/api/lists", json={"name": "Work"})
    await page.reload()
    await leave_fields(page)
    await page.keyboard.press("g")
    await page.keyboard.press("l")
    current = page.locator(".lists li.current .list-link")
    await expect(current).to_be_focused()
    await page.keyboard.press("Tab")  # on from there, through the list's actions
    await expect(page.locator(".lists li.current .rename-list")).to_be_focused()
    # "l" alone is not a shortcut.
    await leave_fields(page)
    await page.keyboard.press("l")
    await expect(current).not_to_be_focused()
