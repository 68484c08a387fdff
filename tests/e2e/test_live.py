"""Live updates in the browser: two browser contexts (two people, or two tabs) on one server
see each other's changes without a reload, keep their own without flicker or doubling, do
not lose an edit in progress, and catch up after a lost connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect

from .conftest import add_todos, has_class, open_app, settled, todo_items
from .test_lists import sidebar_item


@pytest.fixture
async def other(browser: Browser, live_server: str, page: Page) -> AsyncIterator[Page]:
    """The app in a second browser context (its own profile and connections), after `page`."""
    context = await browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    errors: list[str] = []
    second = await context.new_page()
    second.on("pageerror", lambda error: errors.append(str(error)))
    await open_app(second)
    yield second
    await context.close()
    assert not errors, f"uncaught errors in the second page: {errors}"


async def live(page: Page) -> None:
    """Until the page's event stream is open (the offline line is hidden and it got `ready`)."""
    await expect(page.locator(".live-status")).to_be_hidden()
    await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")


async def test_two_contexts_see_each_others_todo_changes_without_reload(
    page: Page, other: Page, live_client: httpx.AsyncClient
) -> None:
    await live(page)
    await live(other)
    await add_todos(page, "from one")
    await expect(todo_items(other)).to_have_text(["from one"])

    await todo_items(other).first.locator(".toggle").check()
    await expect(todo_items(page).first).to_have_class(has_class("completed"))
    await expect(page.locator(".todo-count")).to_have_text("0 items left")

    await add_todos(other, "from two")
    await todo_items(page).nth(1).locator("label").dblclick()
    await todo_items(page).nth(1).locator(".edit").fill("edited in one")
    await todo_items(page).nth(1).locator(".edit").press("Enter")
    await expect(todo_items(other)).to_have_text(["from one", "edited in one"])

    # Moves come through the API (the app has no dragging): both show the new order.
    (await live_client.patch("/api/todos/2", json={"order": 1})).raise_for_status()
    await expect(todo_items(page)).to_have_text(["edited in one", "from one"])
    await expect(todo_items(other)).to_have_text(["edited in one", "from one"])

    await todo_items(other).nth(1).locator(".destroy").click()
    await expect(todo_items(page)).to_have_text(["edited in one"])
    await settled(page)
    await settled(other)


async def test_two_contexts_see_each_others_lists_and_counts(
    page: Page, other: Page, live_client: httpx.AsyncClient
) -> None:
    await live(page)
    await live(other)
    await other.locator(".new-list").fill("Groceries")
    await other.locator(".new-list").press("Enter")
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox", "Groceries"])
    # Counts of a list not on screen follow changes made to it elsewhere.
    groceries = (await live_client.get("/api/lists/2")).json()["id"]
    await live_client.post("/api/todos", json=[{"title": "milk", "list_id": groceries}] * 2)
    await expect(sidebar_item(page, "Groceries").locator(".list-count")).to_have_text("2")

    await sidebar_item(page, "Groceries").locator(".rename-list").click()
    await sidebar_item(page, "Groceries").locator(".list-edit").fill("Shopping")
    await sidebar_item(page, "Groceries").locator(".list-edit").press("Enter")
    await expect(other.locator(".lists .list-name")).to_have_text(["Inbox", "Shopping"])

    # The list on screen, deleted elsewhere: the page goes to the first list and says why.
    await sidebar_item(other, "Shopping").locator("a").click()
    await expect(todo_items(other)).to_have_text(["milk", "milk"])
    (await live_client.delete(f"/api/lists/{groceries}")).raise_for_status()
    await expect(other.locator(".lists .list-name")).to_have_text(["Inbox"])
    await expect(other.locator(".list-title")).to_have_text("Inbox")
    await expect(other.locator(".notice")).to_contain_text("was deleted on another device")


async def test_an_own_add_shows_once_when_its_event_comes_before_its_answer(
    page: Page, other: Page
) -> None:
    """The server commits, its event reaches the page, and only then the POST's answer: the
    page still shows the todo once (the event waits for the answer, which is the same)."""
    await live(page)
    before = await last_event(page)
    held: list[Route] = []

    async def hold_answer(route: Route) -> None:
        response = await route.fetch()  # the server has answered (and committed)
        held.append(route)
        await expect(page.locator("html")).not_to_have_attribute("data-live-event", before)
        await route.fulfill(response=response)

    await page.route("**/api/todos", hold_answer)
    await page.locator(".new-todo").fill("only once")
    await page.locator(".new-todo").press("Enter")
    await expect(todo_items(other)).to_have_text(["only once"])
    await settled(page)
    assert held, "the POST went through the hold"
    await expect(todo_items(page)).to_have_text(["only once"])
    await expect(page.locator(".todo-list li.pending")).to_have_count(0)


async def test_an_edit_in_progress_is_kept_and_a_conflict_is_told_on_save(
    page: Page, other: Page
) -> None:
    await live(page)
    await add_todos(page, "shared")
    await expect(todo_items(other)).to_have_text(["shared"])
    await todo_items(page).first.locator("label").dblclick()
    edit = todo_items(page).first.locator(".edit")
    await edit.fill("mine")

    before = await last_event(page)
    await todo_items(other).first.locator("label").dblclick()
    await todo_items(other).first.locator(".edit").fill("theirs")
    await todo_items(other).first.locator(".edit").press("Enter")
    await settled(other)
    # Their change has reached the page (and waits there).
    await expect(page.locator("html")).not_to_have_attribute("data-live-event", before)
    # Still editing, with the user's text, in the same place.
    await expect(edit).to_be_focused()
    await expect(edit).to_have_value("mine")

    await edit.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("changed elsewhere while you edited")
    await expect(page.locator(".notice")).to_contain_text("your text “mine” was not saved")
    await expect(todo_items(page)).to_have_text(["theirs"])
    await expect(todo_items(other)).to_have_text(["theirs"])


async def test_a_page_that_lost_its_connection_catches_up(page: Page, other: Page) -> None:
    await live(page)
    await add_todos(page, "before", "doomed")
    await expect(todo_items(other)).to_have_text(["before", "doomed"])

    await page.context.set_offline(True)
    await expect(page.locator(".live-status")).to_be_visible()
    await expect(page.locator(".live-status")).to_contain_text("Offline")
    await add_todos(other, "while offline")
    await todo_items(other).first.locator(".toggle").check()
    await todo_items(other).nth(1).locator(".destroy").click()
    await settled(other)
    await expect(todo_items(page)).to_have_text(["before", "doomed"])  # nothing came

    await page.context.set_offline(False)
    await live(page)
    await expect(todo_items(page)).to_have_text(["before", "while offline"])
    await expect(todo_items(page).first).to_have_class(has_class("completed"))


async def last_event(page: Page) -> str:
    return await page.locator("html").get_attribute("data-live-event") or ""


async def test_the_focused_todo_keeps_the_focus_when_someone_else_moves_it(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    """Another client moves the todo the keyboard is on: it moves on the page, and the focus
    stays on it, so Alt+arrows and the shortcuts go on working on it. (Its element is taken
    out of the page for a moment to be put in its new place, which blurred it; CI once saw
    an Alt+↑ after a move do nothing.)"""
    await live(page)
    await add_todos(page, "a", "b", "c")
    await todo_items(page).nth(2).locator("label").focus()
    c = (await live_client.get("/api/todos", params={"q": "c"})).json()[0]
    (await live_client.patch(c["url"], json={"order": 1})).raise_for_status()
    await expect(todo_items(page)).to_have_text(["c", "a", "b"])
    await expect(todo_items(page).first.locator("label")).to_be_focused()
