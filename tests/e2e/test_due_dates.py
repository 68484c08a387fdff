"""Due dates and notes in the web app: set, change and clear a date; overdue in the accent
colour; notes that open with the todo; the Today and Upcoming views across lists."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from playwright.async_api import Page, expect

from .conftest import (
    TODO_ITEM,
    add_todos,
    api_request,
    api_response,
    has_class,
    open_app,
    refuse,
    settled,
    todo_items,
)

TODAY = date.today()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


async def make_todo(client: httpx.AsyncClient, title: str, **fields: object) -> dict:
    response = await client.post("/api/todos", json={"title": title, **fields})
    response.raise_for_status()
    return response.json()


async def open_todo(page: Page, index: int = 0):
    item = todo_items(page).nth(index)
    await item.locator(".open").click()
    await expect(item.locator(".details")).to_be_visible()
    return item


async def test_set_change_and_clear_a_due_date(page: Page, live_client: httpx.AsyncClient) -> None:
    await add_todos(page, "file taxes")
    item = await open_todo(page)
    due = item.locator(".due-input")
    await expect(due).to_be_focused()  # opening a todo goes to its first field
    await expect(due).to_have_attribute("type", "date")  # the browser's own date picker

    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await due.fill(day(1))
    await expect(item.locator(".due-text")).to_have_text("Tomorrow")
    assert (await live_client.get("/api/todos/1")).json()["due"] == day(1)

    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await due.fill("2031-03-14")
    await expect(item.locator(".due-text")).to_contain_text("14")
    assert (await live_client.get("/api/todos/1")).json()["due"] == "2031-03-14"

    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await item.get_by_role("button", name="No due date for “file taxes”").click()
    await expect(item.locator(".due-badge")).to_be_hidden()
    await expect(due).to_have_value("")
    assert (await live_client.get("/api/todos/1")).json()["due"] is None


async def test_overdue_dates_are_in_the_accent_colour_with_a_word(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await make_todo(live_client, "late", due=day(-2))
    await make_todo(live_client, "late but done", due=day(-2), completed=True)
    await make_todo(live_client, "in time", due=day(3))
    await page.reload()
    late, done, in_time = (todo_items(page).nth(i) for i in range(3))
    await expect(late).to_have_class(has_class("overdue"))
    await expect(late.locator(".due-text")).to_have_text(re.compile("^Overdue: "))
    accent = await page.evaluate("getComputedStyle(document.querySelector('.list-title')).color")
    await expect(late.locator(".due-badge")).to_have_css("color", accent)
    for other in (done, in_time):
        await expect(other).not_to_have_class(has_class("overdue"))
        await expect(other.locator(".due-badge")).not_to_have_css("color", accent)


async def test_notes_open_with_the_todo_and_are_kept(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "plan the trip")
    item = await open_todo(page)
    await expect(item.locator(".open")).to_have_attribute("aria-expanded", "true")
    notes = item.get_by_role("textbox", name="Notes of “plan the trip”")
    await notes.fill("Trains:\n  08:12 from platform 3\n<b>not bold</b>")
    async with page.expect_response(api_response("PATCH", TODO_ITEM)):
        await notes.blur()  # notes are saved when the field is left
    saved = (await live_client.get("/api/todos/1")).json()["notes"]
    assert saved == "Trains:\n  08:12 from platform 3\n<b>not bold</b>"
    await expect(item.locator(".has-notes")).to_be_visible()  # a hint in the closed row

    await item.locator(".open").click()
    await expect(item.locator(".details")).to_be_hidden()
    await page.reload()
    item = await open_todo(page)
    await expect(item.locator(".notes")).to_have_value(saved)
    await expect(page.locator(".todo-list b")).to_have_count(0)


async def test_an_opened_todo_shows_its_whole_title(page: Page) -> None:
    title = "A long title, " * 20
    await add_todos(page, title)
    label = todo_items(page).first.locator("label")
    cut = await label.evaluate("el => el.scrollWidth > el.clientWidth")
    assert cut, "a long title is cut in the row"
    await todo_items(page).first.locator(".open").click()
    assert await label.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert (await label.bounding_box())["height"] > 40  # several lines


async def test_a_refused_due_date_is_rolled_back(page: Page) -> None:
    await add_todos(page, "fixed")
    await refuse(page, api_request("PATCH", r"/api/todos/\d+"), status=422)
    item = await open_todo(page)
    await item.locator(".due-input").fill(day(5))
    await expect(page.locator(".notice")).to_contain_text("Could not save “fixed”")
    await expect(item.locator(".due-badge")).to_be_hidden()
    await expect(item.locator(".due-input")).to_have_value("")


async def test_today_and_upcoming_views_across_lists(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    work = (await live_client.post("/api/lists", json={"name": "Work"})).json()["id"]
    await make_todo(live_client, "overdue report", due=day(-1), list_id=work)
    await make_todo(live_client, "call today", due=day(0))
    await make_todo(live_client, "done today", due=day(0), completed=True)
    await make_todo(live_client, "done long ago", due=day(-9), completed=True)
    await make_todo(live_client, "next week", due=day(7), list_id=work)
    await make_todo(live_client, "tomorrow", due=day(1))
    await make_todo(live_client, "someday")
    await page.reload()

    await page.get_by_role("link", name="Today").click()
    await expect(page).to_have_url(re.compile(r"/today$"))
    await expect(page.locator(".list-title")).to_have_text("Today")
    await expect(todo_items(page).locator("label")).to_have_text(
        ["overdue report", "call today", "done today"]
    )
    # Across lists: each todo says which list it is in.
    await expect(todo_items(page).first.locator(".list-tag")).to_have_text("Work")
    await expect(page.get_by_role("link", name="Today")).to_have_attribute("aria-current", "page")

    await page.get_by_role("link", name="Upcoming").click()
    await expect(page).to_have_url(re.compile(r"/upcoming$"))
    await expect(todo_items(page).locator("label")).to_have_text(["tomorrow", "next week"])
    await page.reload()  # the view is in the URL
    await expect(todo_items(page).locator("label")).to_have_text(["tomorrow", "next week"])


async def test_a_todo_added_in_today_is_due_today(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await open_app(page, "/today")
    await expect(page.locator(".empty-view")).to_have_text("Nothing due today or overdue.")
    await add_todos(page, "water the plants")
    await expect(todo_items(page).locator(".due-text")).to_have_text("Today")
    await settled(page)
    (saved,) = (await live_client.get("/api/todos")).json()
    assert (saved["due"], saved["list_id"]) == (day(0), 1)  # in the default list
