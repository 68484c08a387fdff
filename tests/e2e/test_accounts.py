"""Accounts in the browser (AUTH=on): sign-up, sign-in, sign-out, access tokens, sharing a
list between two people in two browser contexts, and a session that ends mid-typing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from ..users import ALICE, ALICE_ID, ALICE_PASSWORD, AUTH_HEADERS, bearer
from .conftest import add_todos, settled, todo_items
from .test_live import live

NewPage = Callable[[], Awaitable[Page]]


@pytest.fixture
def inbox_owner() -> int:
    return ALICE_ID  # alice's Inbox is list 1


@pytest.fixture
async def new_page(
    browser: Browser, auth_server: str, clean_db: AsyncEngine
) -> AsyncIterator[NewPage]:
    """Pages in fresh browser contexts (one person each) on the AUTH=on server."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    async def make() -> Page:
        ctx = await browser.new_context(
            base_url=auth_server, viewport={"width": 1024, "height": 700}
        )
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = await ctx.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for ctx in contexts:
        await ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


async def sign_in(page: Page, username: str, password: str) -> None:
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Sign in to todoapp")).to_be_visible()
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.locator(".todoapp")).to_have_attribute("aria-busy", "false")


async def sign_up(page: Page, username: str, password: str) -> None:
    await page.goto("/")
    await page.get_by_role("button", name="Create an account").click()
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator(".todoapp")).to_have_attribute("aria-busy", "false")


async def test_sign_up_sign_out_sign_in(new_page: NewPage) -> None:
    page = await new_page()
    await page.goto("/")
    username, password = (
        page.get_by_label("Username", exact=True),
        page.get_by_label("Password", exact=True),
    )
    await expect(username).to_have_attribute("autocomplete", "username")
    await expect(password).to_have_attribute("autocomplete", "current-password")
    await page.get_by_role("button", name="Create an account").click()
    await expect(password).to_have_attribute("autocomplete", "new-password")

    await username.fill("dora")
    await password.fill("qwertyuiop")  # long enough, but everybody's
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("alert").filter(has_text="most common")).to_be_visible()
    await sign_up(page, "dora", "dora's long secret")
    await expect(page.get_by_role("button", name="Account: dora")).to_be_visible()
    await expect(page.locator(".lists .list-name")).to_have_text(["Inbox"])
    await add_todos(page, "dora's first")

    await page.get_by_role("button", name="Account: dora").click()
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page.get_by_role("heading", name="Sign in to todoapp")).to_be_visible()
    await expect(page.locator(".todo-list")).to_be_hidden()

    await page.get_by_label("Username", exact=True).fill("dora")
    await page.get_by_label("Password", exact=True).fill("not it at all")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(
        page.get_by_role("alert").filter(has_text="Wrong username or password.")
    ).to_be_visible()
    await sign_in(page, "dora", "dora's long secret")
    await expect(todo_items(page)).to_have_text(["dora's first"])


async def test_access_tokens_create_copy_revoke(new_page: NewPage, auth_server: str) -> None:
    page = await new_page()
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await sign_in(page, ALICE, ALICE_PASSWORD)
    await page.get_by_role("button", name=f"Account: {ALICE}").click()
    await page.get_by_role("button", name="Access tokens").click()
    dialog = page.get_by_role("dialog", name="Access tokens")
    await expect(dialog.locator(".token-label")).to_have_text(["tests"])  # clean_db's
    await dialog.get_by_label("New token name").fill("backup script")
    await dialog.get_by_role("button", name="Create token").click()
    shown = dialog.get_by_label("The new token")
    await expect(shown).to_have_value(re.compile(r"^tdo_"))
    secret = await shown.input_value()
    await dialog.get_by_role("button", name="Copy").click()
    await expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == secret

    async with httpx.AsyncClient(base_url=auth_server) as script:
        assert (await script.get("/api/me", headers=bearer(secret))).status_code == 200
        await dialog.get_by_role("button", name="Revoke “backup script”").click()
        await expect(dialog.locator(".token-label")).to_have_text(["tests"])
        assert (await script.get("/api/me", headers=bearer(secret))).status_code == 401


async def test_sharing_between_two_people(new_page: NewPage, auth_server: str) -> None:
    """A shares a list with B as a viewer: B sees it and cannot change it. A makes B an
    editor: B's change shows for A after a reload."""
    bob = await new_page()
    await sign_up(bob, "bob", "bob's long secret")
    alice = await new_page()
    await sign_in(alice, ALICE, ALICE_PASSWORD)
    await add_todos(alice, "milk")

    await alice.get_by_role("button", name="Share “Inbox”").click()
    dialog = alice.get_by_role("dialog", name="Share “Inbox”")
    await dialog.get_by_label("Share with (username)").fill("bob")
    await dialog.get_by_label("Role", exact=True).select_option("viewer")
    await dialog.get_by_role("button", name="Share", exact=True).click()
    await expect(dialog.locator(".member-name")).to_have_text([ALICE, "bob"])
    await dialog.get_by_role("button", name="Close").click()

    await bob.reload()
    shared = bob.locator(".lists li", has_text="alice · viewer")
    await expect(shared).to_be_visible()
    await shared.locator(".list-link").click()
    await expect(todo_items(bob)).to_have_text(["milk"])
    await expect(bob.locator(".new-todo")).to_be_hidden()
    await expect(bob.locator(".todo-list .toggle")).to_be_disabled()
    await expect(bob.locator(".todo-list .destroy")).to_be_hidden()
    await todo_items(bob).first.dblclick()
    await expect(todo_items(bob).first).not_to_have_class(re.compile("editing"))
    await expect(shared.get_by_role("button", name="Share “Inbox”")).to_be_hidden()

    await alice.get_by_role("button", name="Share “Inbox”").click()
    await dialog.get_by_label("Role of bob").select_option("editor")
    await settled(alice)
    await dialog.get_by_role("button", name="Close").click()

    await bob.reload()
    await expect(bob.locator(".lists li", has_text="alice · editor")).to_be_visible()
    await expect(bob.locator(".new-todo")).to_be_visible()
    await add_todos(bob, "bread")
    await bob.locator(".todo-list li", has_text="milk").locator(".toggle").check()
    await settled(bob)

    await alice.reload()
    await expect(alice.locator(".todoapp")).to_have_attribute("aria-busy", "false")
    await expect(todo_items(alice)).to_have_text(["milk", "bread"])
    await expect(alice.locator(".todo-list li", has_text="milk")).to_have_class(
        re.compile("completed")
    )


async def test_an_ended_session_returns_to_sign_in_keeping_the_typed_todo(
    new_page: NewPage, auth_server: str
) -> None:
    page = await new_page()
    await sign_in(page, ALICE, ALICE_PASSWORD)
    async with httpx.AsyncClient(base_url=auth_server, headers=AUTH_HEADERS) as elsewhere:
        assert (await elsewhere.delete("/api/me/sessions")).status_code == 204
    new_todo = page.locator(".new-todo")
    await new_todo.fill("call the plumber")
    await new_todo.press("Enter")
    await expect(page.get_by_role("heading", name="Sign in to todoapp")).to_be_visible()
    await expect(page.get_by_role("alert").filter(has_text="session has ended")).to_be_visible()
    await page.get_by_label("Username", exact=True).fill(ALICE)
    await page.get_by_label("Password", exact=True).fill(ALICE_PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("button", name=f"Account: {ALICE}")).to_be_visible()
    await settled(page)
    await expect(new_todo).to_have_value("call the plumber")
    await new_todo.press("Enter")
    await expect(todo_items(page)).to_have_text(["call the plumber"])


async def test_two_people_sharing_a_list_see_each_others_changes_live(
    new_page: NewPage, auth_server: str
) -> None:
    """Without a reload: the list shared with B appears in B's sidebar; A's and B's changes
    show for the other; the list taken from B leaves B's sidebar."""
    bob = await new_page()
    await sign_up(bob, "bob", "bob's long secret")
    alice = await new_page()
    await sign_in(alice, ALICE, ALICE_PASSWORD)
    await live(alice)
    await live(bob)
    async with httpx.AsyncClient(base_url=auth_server, headers=AUTH_HEADERS) as alice_api:
        shared = await alice_api.put("/api/lists/1/members/bob", json={"role": "editor"})
        assert shared.status_code == 200
        in_sidebar = bob.locator(".lists li", has_text="alice · editor")
        await expect(in_sidebar).to_be_visible()
        await in_sidebar.locator(".list-link").click()
        await settled(bob)

        await add_todos(alice, "milk")
        await expect(todo_items(bob)).to_have_text(["milk"])
        await add_todos(bob, "bread")
        await expect(todo_items(alice)).to_have_text(["milk", "bread"])
        await bob.locator(".todo-list li", has_text="milk").locator(".toggle").check()
        await expect(alice.locator(".todo-list li", has_text="milk")).to_have_class(
            re.compile("completed")
        )

        unshared = await alice_api.delete("/api/lists/1/members/bob")
        assert unshared.status_code == 204
        await expect(in_sidebar).to_have_count(0)
        await expect(bob.get_by_role("alert").filter(has_text="no longer shared")).to_be_visible()
