"""The app over a real network: persistence, two pages, keyed rendering, loading state,
and what happens when the server refuses or cannot be reached (rollback + message).

Failures are made with Playwright's network interception (page.route) in front of the real
backend; nothing of the server is mocked.
"""

from __future__ import annotations

import asyncio

import httpx
from playwright.async_api import BrowserContext, Page, Route, expect

from .conftest import (
    TODO_ITEM,
    Gate,
    add_todos,
    api_request,
    api_response,
    cut_off,
    has_class,
    open_app,
    refuse,
    server_todos,
    settled,
    todo_items,
    without_live_updates,
)

# --- persistence ---------------------------------------------------------------


async def test_state_survives_reload(page: Page) -> None:
    await add_todos(page, "one", "two", "three")
    await todo_items(page).nth(1).locator(".toggle").check()
    await todo_items(page).nth(2).locator("label").dblclick()
    await todo_items(page).nth(2).locator(".edit").fill("three, edited")
    await todo_items(page).nth(2).locator(".edit").press("Enter")
    await settled(page)
    await page.reload()
    await expect(todo_items(page)).to_have_text(["one", "two", "three, edited"])
    await expect(todo_items(page).nth(1)).to_have_class(has_class("completed"))
    await expect(page.locator(".todo-count")).to_have_text("2 items left")


async def test_two_pages_on_the_same_list_see_each_others_changes(
    page: Page, context: BrowserContext
) -> None:
    other = await open_app(await context.new_page())
    await add_todos(page, "from page one")
    await other.reload()
    await expect(todo_items(other)).to_have_text(["from page one"])

    await add_todos(other, "from page two")
    await todo_items(other).first.locator(".toggle").check()
    await settled(other)
    await page.reload()
    await expect(todo_items(page)).to_have_text(["from page one", "from page two"])
    await expect(todo_items(page).first).to_have_class(has_class("completed"))


async def test_a_todo_deleted_elsewhere_is_dropped_with_a_message(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await without_live_updates(page)
    await open_app(page)
    await add_todos(page, "doomed")
    (await live_client.delete("/api/todos/1")).raise_for_status()
    # click, not check(): check() would re-read the box after the app has rolled it back.
    await todo_items(page).first.locator(".toggle").click()
    await expect(page.locator(".notice")).to_contain_text("“doomed” was deleted on another device.")
    await expect(todo_items(page)).to_have_count(0)


# --- keyed rendering -----------------------------------------------------------


async def test_server_answer_updates_the_same_element(page: Page) -> None:
    gate = await Gate(api_request("POST", "/api/todos")).install(page)
    await page.locator(".new-todo").fill("keyed")
    await page.locator(".new-todo").press("Enter")
    pending = await todo_items(page).first.element_handle()
    assert await pending.evaluate("el => el.classList.contains('pending')")
    async with page.expect_response(lambda r: r.request.method == "POST"):
        gate.open()
    await expect(todo_items(page).first).to_have_attribute("data-id", "1")
    # The element shown before the answer is the one the answer updated.
    assert await pending.evaluate("el => el.isConnected && el.dataset.id === '1'")
    await expect(page.locator(".new-todo")).to_be_focused()


async def test_answers_keep_elements_focus_and_editing_state(page: Page) -> None:
    await add_todos(page, "first", "second")
    first = await todo_items(page).nth(0).element_handle()
    second = await todo_items(page).nth(1).element_handle()

    # Toggle "second", and start editing "first" while that PATCH is still held.
    gate = await Gate(api_request("PATCH", TODO_ITEM)).install(page)
    await todo_items(page).nth(1).locator(".toggle").check()
    await todo_items(page).nth(0).locator("label").dblclick()
    edit = todo_items(page).nth(0).locator(".edit")
    await edit.fill("half-typed")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        gate.open()
    await settled(page)

    assert await first.evaluate("el => el.isConnected && el.classList.contains('editing')")
    assert await second.evaluate("el => el.isConnected && el.classList.contains('completed')")
    await expect(edit).to_be_focused()
    await expect(edit).to_have_value("half-typed")
    # Other actions (add, delete) leave the remaining elements in place too.
    await add_todos(page, "third")
    assert await second.evaluate("el => el.isConnected")
    assert await first.evaluate("el => el === document.querySelector('.todo-list li')")


async def test_filtering_back_and_forth_reuses_elements(page: Page) -> None:
    await add_todos(page, "a")
    element = await todo_items(page).first.element_handle()
    await page.locator('.filters a[href="#/completed"]').click()
    await expect(todo_items(page)).to_have_count(0)
    await page.locator('.filters a[href="#/"]').click()
    await expect(todo_items(page)).to_have_count(1)
    assert await element.evaluate("el => el.isConnected")


# --- loading and double submits ------------------------------------------------


async def test_loading_state_is_visible_on_first_load(context: BrowserContext) -> None:
    page = await context.new_page()
    gate = await Gate(api_request("GET", r"/api/todos\?.*")).install(page)
    await page.goto("/")
    await expect(page.locator(".loading")).to_be_visible()
    await expect(page.locator(".todoapp")).to_have_attribute("aria-busy", "true")
    gate.open()
    await expect(page.locator(".loading")).to_be_hidden()
    await expect(page.locator(".todoapp")).to_have_attribute("aria-busy", "false")


async def test_fast_repeated_enter_adds_once(page: Page, live_client: httpx.AsyncClient) -> None:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    gate = await Gate(api_request("POST", "/api/todos")).install(page)
    new_todo = page.locator(".new-todo")
    await new_todo.fill("only once")
    for _ in range(3):
        await new_todo.press("Enter")
    gate.open()
    await settled(page)
    await expect(todo_items(page)).to_have_text(["only once"])
    assert len(posts) == 1
    assert [t["title"] for t in await server_todos(live_client)] == ["only once"]


async def test_double_click_on_destroy_deletes_once(page: Page) -> None:
    deletes: list[str] = []
    page.on("request", lambda r: deletes.append(r.url) if r.method == "DELETE" else None)
    await add_todos(page, "a", "b")
    await todo_items(page).first.hover()
    await todo_items(page).first.locator(".destroy").dblclick()
    await settled(page)
    await expect(todo_items(page)).to_have_text(["b"])
    assert len(deletes) == 1
    await expect(page.locator(".notice")).to_be_hidden()


async def test_changes_made_before_the_post_answers_are_kept(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    gate = await Gate(api_request("POST", "/api/todos")).install(page)
    await page.locator(".new-todo").fill("quick")
    await page.locator(".new-todo").press("Enter")
    await todo_items(page).first.locator(".toggle").check()
    gate.open()
    await expect(todo_items(page).first).to_have_attribute("data-id", "1")
    await settled(page)
    assert [t["completed"] for t in await server_todos(live_client)] == [True]


# --- errors: rollback and message ----------------------------------------------


async def test_refused_toggle_is_rolled_back_with_a_dismissible_message(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "stubborn")
    await refuse(page, api_request("PATCH", TODO_ITEM), 500, "The database is on fire.")
    item = todo_items(page).first
    await item.locator(".toggle").click()
    notice = page.locator(".notice")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("Could not save “stubborn”")
    await expect(notice).to_contain_text("The database is on fire.")
    await expect(notice).to_have_attribute("role", "alert")
    await expect(item).not_to_have_class(has_class("completed"))
    await expect(item.locator(".toggle")).not_to_be_checked()
    await expect(page.locator(".todo-count")).to_have_text("1 item left")
    await notice.get_by_role("button", name="Dismiss").click()
    await expect(notice).to_be_hidden()
    assert [t["completed"] for t in await server_todos(live_client)] == [False]


async def test_failed_add_puts_the_text_back(page: Page, live_client: httpx.AsyncClient) -> None:
    await cut_off(page, api_request("POST", "/api/todos"))
    new_todo = page.locator(".new-todo")
    await new_todo.fill("do not lose me")
    await new_todo.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("Cannot reach the server")
    await expect(new_todo).to_have_value("do not lose me")
    await expect(todo_items(page)).to_have_count(0)
    await page.unroute("**/api/**")
    await new_todo.press("Enter")  # retry
    await expect(todo_items(page)).to_have_text(["do not lose me"])
    await settled(page)
    assert [t["title"] for t in await server_todos(live_client)] == ["do not lose me"]


async def test_refused_delete_puts_the_todo_back_in_place(page: Page) -> None:
    await add_todos(page, "a", "b", "c")
    await refuse(page, api_request("DELETE", TODO_ITEM), 503, "The server is busy; retry shortly.")
    await todo_items(page).nth(1).hover()
    await todo_items(page).nth(1).locator(".destroy").click()
    await expect(page.locator(".notice")).to_contain_text("The server is busy; retry shortly.")
    await expect(todo_items(page)).to_have_text(["a", "b", "c"])


async def test_refused_edit_restores_the_title(page: Page) -> None:
    await add_todos(page, "original")
    await cut_off(page, api_request("PATCH", TODO_ITEM))
    item = todo_items(page).first
    await item.locator("label").dblclick()
    await item.locator(".edit").fill("changed")
    await item.locator(".edit").press("Enter")
    await expect(page.locator(".notice")).to_contain_text(
        "Could not save the new title “changed” for “original”: Cannot reach the server"
    )
    await expect(item.locator("label")).to_have_text("original")


async def test_refused_clear_completed_restores_the_todos(page: Page) -> None:
    await add_todos(page, "a", "b")
    await todo_items(page).first.locator(".toggle").check()
    await settled(page)
    await refuse(page, api_request("DELETE", r"/api/todos\?.*"), 500, "Nope.")
    await page.locator(".clear-completed").click()
    await expect(page.locator(".notice")).to_contain_text("Could not clear the completed todos")
    await expect(todo_items(page)).to_have_text(["a", "b"])
    await expect(todo_items(page).first).to_have_class(has_class("completed"))


async def test_refused_toggle_all_is_rolled_back(page: Page) -> None:
    await add_todos(page, "a", "b")
    await refuse(page, api_request("PATCH", r"/api/todos.*"), 503, "Try again later.")
    await page.locator(".toggle-all").click()
    await expect(page.locator(".notice")).to_contain_text("Try again later.")
    await expect(page.locator(".todo-list li.completed")).to_have_count(0)
    await expect(page.locator(".toggle-all")).not_to_be_checked()


async def test_toggle_all_refused_as_unsupported_is_not_sent_one_by_one(page: Page) -> None:
    """A 405 is a refusal like any other: rolled back, never retried as a PATCH per todo."""
    await add_todos(page, "a", "b")
    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
    await refuse(page, api_request("PATCH", r"/api/todos\?.*"), 405, "Not here.")
    await page.locator(".toggle-all").click()
    await expect(page.locator(".notice")).to_contain_text("Could not update all todos: Not here.")
    await settled(page)
    await expect(page.locator(".todo-list li.completed")).to_have_count(0)
    assert len(patches) == 1, patches


async def test_field_errors_are_shown_in_words(page: Page) -> None:
    await refuse(
        page,
        api_request("POST", "/api/todos"),
        422,
        "The request body is not valid.",
        errors=[{"pointer": "/title", "detail": "String should have at most 500 characters"}],
    )
    await page.locator(".new-todo").fill("too long, says the server")
    await page.locator(".new-todo").press("Enter")
    await expect(page.locator(".notice")).to_contain_text(
        "The request body is not valid. (Title: String should have at most 500 characters)"
    )


async def test_error_without_problem_body_still_explains(page: Page) -> None:
    async def bad_gateway(route):
        if route.request.method == "POST":
            await route.fulfill(status=502, content_type="text/html", body="<h1>Bad gateway</h1>")
        else:
            await route.fallback()

    await page.route("**/api/todos", bad_gateway)
    await page.locator(".new-todo").fill("x")
    await page.locator(".new-todo").press("Enter")
    await expect(page.locator(".notice")).to_contain_text("The server had a problem (error 502)")


async def test_server_unreachable_on_first_load_says_so(context: BrowserContext) -> None:
    page = await context.new_page()
    await cut_off(page, api_request("GET", r"/api/lists.*"))
    await page.goto("/")
    await expect(page.locator(".notice")).to_contain_text("Could not load your lists")
    await expect(page.locator(".loading")).to_be_hidden()


async def test_fast_repeated_toggles_reach_the_server_in_order(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    await add_todos(page, "flip")
    toggle = todo_items(page).first.locator(".toggle")
    for _ in range(3):
        await toggle.click()
    await settled(page)
    await expect(todo_items(page).first).to_have_class(has_class("completed"))
    assert [t["completed"] for t in await server_todos(live_client)] == [True]


async def test_deleting_a_todo_whose_post_is_in_flight(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    gate = await Gate(api_request("POST", "/api/todos")).install(page)
    await page.locator(".new-todo").fill("changed my mind")
    await page.locator(".new-todo").press("Enter")
    await todo_items(page).first.hover()
    await todo_items(page).first.locator(".destroy").click()
    await expect(todo_items(page)).to_have_count(0)
    async with page.expect_response(lambda r: r.request.method == "DELETE"):
        gate.open()
    await settled(page)
    assert await server_todos(live_client) == []
    await expect(page.locator(".notice")).to_be_hidden()


async def test_several_failures_are_all_listed_until_dismissed(page: Page) -> None:
    await cut_off(page, api_request("POST", "/api/todos"))
    new_todo = page.locator(".new-todo")
    for title in ["first idea", "second idea"]:
        await new_todo.fill(title)
        await new_todo.press("Enter")
        await expect(new_todo).to_have_value(title)  # given back after the failure
    messages = page.locator(".notice li")
    await expect(messages).to_have_count(2)
    await expect(messages.nth(0)).to_contain_text("Could not add “first idea”")
    await expect(messages.nth(1)).to_contain_text("Could not add “second idea”")
    await page.get_by_role("button", name="Dismiss").click()
    await expect(page.locator(".notice")).to_be_hidden()
    await expect(messages).to_have_count(0)


async def test_a_long_list_is_loaded_page_after_page(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    # The app asks for 1000 a page; 1001 todos need a second page (Link: rel="next").
    for start in (0, 1000):
        batch = [{"title": f"todo {n}"} for n in range(start, min(start + 1000, 1001))]
        (await live_client.post("/api/todos", json=batch)).raise_for_status()
    await page.reload()
    await expect(page.locator(".todo-count")).to_have_text("1001 items left")
    await expect(todo_items(page).last).to_have_text("todo 1000")


async def test_a_todo_added_while_the_list_loads_stays(
    context: BrowserContext, live_client: httpx.AsyncClient
) -> None:
    """The list's todos, read before the add committed, arrive after it: the page keeps the
    new todo (the loaded ones are merged with those added meanwhile, not put in their place)."""
    page = await context.new_page()
    answered = asyncio.Event()
    release = asyncio.Event()
    is_list_read = api_request("GET", r"/api/todos\?.*")

    async def hold_answer(route: Route) -> None:  # the server answers now, the page later
        if not is_list_read(route.request):
            await route.fallback()
            return
        response = await route.fetch()
        answered.set()
        await release.wait()
        await route.fulfill(response=response)

    await page.route("**/api/**", hold_answer)
    await page.goto("/")
    await answered.wait()
    await page.locator(".new-todo").fill("added while loading")
    async with page.expect_response(api_response("POST", "/api/todos")):
        await page.locator(".new-todo").press("Enter")
    release.set()
    await expect(page.locator(".loading")).to_be_hidden()
    await expect(todo_items(page)).to_have_text(["added while loading"])
    assert [t["title"] for t in await server_todos(live_client)] == ["added while loading"]
