"""Messages a person understands when the data moved on on another device.

The pages here do not get the live feed (without_live_updates): each learns of the change
only when its own request meets it, which is what these tests are about."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from .conftest import add_todos, open_app, settled, todo_items, without_live_updates


async def make_list(client: httpx.AsyncClient, name: str) -> int:
    response = await client.post("/api/lists", json={"name": name})
    response.raise_for_status()
    return response.json()["id"]


async def test_adding_to_a_list_deleted_elsewhere(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    work = await make_list(live_client, "Work")
    await without_live_updates(page)
    await open_app(page, f"/lists/{work}")
    (await live_client.delete(f"/api/lists/{work}")).raise_for_status()  # another device
    new_todo = page.locator(".new-todo")
    await new_todo.fill("report")
    await new_todo.press("Enter")
    await expect(page.locator(".notice")).to_contain_text(
        "The list “Work” was deleted on another device, so “report” was not added."
    )
    await expect(new_todo).to_have_value("report")  # the text is given back
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox"])
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.locator(".list-title")).to_have_text("Inbox")


async def test_renaming_a_list_deleted_elsewhere(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    work = await make_list(live_client, "Work")
    await without_live_updates(page)
    await page.reload()
    # Loaded: the lists came before the change elsewhere (the load event does not wait).
    await expect(page.locator(".lists li", has_text="Work")).to_be_visible()
    await settled(page)
    (await live_client.delete(f"/api/lists/{work}")).raise_for_status()
    item = page.locator(".lists li", has_text="Work")
    await item.locator(".rename-list").click()
    await item.locator(".list-edit").fill("Job")
    await item.locator(".list-edit").press("Enter")
    await expect(page.locator(".notice")).to_contain_text(
        "The list “Work” was deleted on another device."
    )
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox"])


async def test_moving_a_todo_to_a_list_deleted_elsewhere(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    work = await make_list(live_client, "Work")
    await without_live_updates(page)
    await page.reload()
    # Loaded: the lists came before the change elsewhere (the load event does not wait).
    await expect(page.locator(".lists li", has_text="Work")).to_be_visible()
    await settled(page)
    await add_todos(page, "report")
    (await live_client.delete(f"/api/lists/{work}")).raise_for_status()
    handle = todo_items(page).first.locator(".drag-handle")
    target = page.locator(".lists li", has_text="Work")
    box = await handle.bounding_box()
    goal = await target.bounding_box()
    assert box and goal
    await page.mouse.move(box["x"] + 5, box["y"] + 5)
    await page.mouse.down()
    await page.mouse.move(goal["x"] + 20, goal["y"] + 10, steps=6)
    await page.mouse.up()
    await expect(page.locator(".notice")).to_contain_text(
        "The list “Work” was deleted on another device, so “report” stayed where it was."
    )
    await expect(todo_items(page).locator("label")).to_have_text(["report"])
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox"])
    await settled(page)
    assert [t["title"] for t in (await live_client.get("/api/todos")).json()] == ["report"]
