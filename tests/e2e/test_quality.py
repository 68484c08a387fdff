"""Keyboard use, screen-reader names, small screens, user text as text, security and
cache headers. (The README's screenshots: test_look.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect

from .conftest import add_todos, has_class, open_app, settled, todo_items


async def focus_is_visible(page: Page) -> bool:
    return await page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0; }"
    )


async def test_keyboard_only_use(page: Page) -> None:
    keyboard = page.keyboard
    await keyboard.type("first")
    await keyboard.press("Enter")
    await keyboard.type("second")
    await keyboard.press("Enter")
    await expect(page.locator(".todo-list li.pending")).to_have_count(0)

    await keyboard.press("Tab")
    await expect(page.locator(".toggle-all")).to_be_focused()
    assert await focus_is_visible(page)
    await keyboard.press("Tab")
    first = todo_items(page).first
    await expect(first.locator(".toggle")).to_be_focused()
    assert await focus_is_visible(page)
    await keyboard.press("Space")
    await expect(first).to_have_class(has_class("completed"))

    await keyboard.press("Tab")
    await expect(first.locator("label")).to_be_focused()
    assert await focus_is_visible(page)
    await keyboard.press("Enter")
    await expect(first.locator(".edit")).to_be_focused()
    await keyboard.press("End")
    await keyboard.type(" edited")
    await keyboard.press("Enter")
    await expect(first.locator("label")).to_have_text("first edited")
    await expect(first.locator("label")).to_be_focused()  # back where the user was

    await keyboard.press("Enter")  # edit again, then give up with Escape
    await keyboard.type(" nope")
    await keyboard.press("Escape")
    await expect(first.locator("label")).to_have_text("first edited")

    await keyboard.press("Tab")
    destroy = first.locator(".destroy")
    await expect(destroy).to_be_focused()
    await expect(destroy).to_have_css("opacity", "1")  # shown on focus, not only on hover
    await keyboard.press("Enter")
    await expect(todo_items(page)).to_have_text(["second"])
    await expect(todo_items(page).first.locator(".destroy")).to_be_focused()

    # The filters are links: Tab to "Active" and follow it with Enter.
    active = page.locator('.filters a[href="#/active"]')
    for _ in range(6):
        if await active.evaluate("el => el === document.activeElement"):
            break
        await keyboard.press("Tab")
    await expect(active).to_be_focused()
    await keyboard.press("Enter")
    await expect(active).to_have_class(has_class("selected"))


async def test_controls_have_accessible_names(page: Page) -> None:
    await add_todos(page, "milk")
    await expect(page.get_by_role("textbox", name="New todo")).to_be_focused()
    await expect(page.get_by_role("checkbox", name="Mark all as complete")).to_be_visible()
    await expect(page.get_by_role("checkbox", name="Complete “milk”")).to_be_visible()
    await expect(page.get_by_role("button", name="Delete “milk”")).to_have_count(1)
    await expect(page.get_by_role("navigation", name="Lists")).to_be_visible()
    await expect(page.get_by_role("textbox", name="New list name")).to_be_visible()
    await expect(page.get_by_role("button", name="Rename “Inbox”")).to_be_visible()
    await expect(page.get_by_role("link", name=re.compile("^Inbox"))).to_have_attribute(
        "aria-current", "page"
    )


async def test_small_screen_360px(browser: Browser, live_server: str, live_client) -> None:
    (await live_client.post("/api/lists", json={"name": "Errands"})).raise_for_status()
    context = await browser.new_context(
        base_url=live_server,
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = await open_app(await context.new_page())
        await add_todos(page, "a-very-long-title-without-any-space-" * 4, "short")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"page is {width}px wide: horizontal scrolling at 360px"

        # Touch screens have no hover: the delete button is always shown.
        await expect(todo_items(page).nth(1).locator(".destroy")).to_have_css("opacity", "1")

        # The sidebar is a compact menu.
        menu = page.get_by_role("button", name="Lists")
        await expect(page.locator(".lists")).to_be_hidden()
        await expect(menu).to_have_attribute("aria-expanded", "false")
        await menu.tap()
        await expect(menu).to_have_attribute("aria-expanded", "true")
        await page.locator(".lists .list-link", has_text="Errands").tap()
        await expect(page.locator(".list-title")).to_have_text("Errands")
        await expect(page.locator(".lists")).to_be_hidden()  # closes after a choice
        await expect(page).to_have_url(re.compile(r"/lists/2$"))
        await menu.tap()
        await expect(page.locator(".lists")).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(page.locator(".lists")).to_be_hidden()
        await expect(menu).to_be_focused()
    finally:
        await context.close()


async def test_user_text_is_shown_as_text_never_markup(
    page: Page, live_client: httpx.AsyncClient
) -> None:
    evil = '<img src=x onerror="window.pwned=1"><b>bold</b>'
    await add_todos(page, evil)
    await expect(todo_items(page).locator("label")).to_have_text(evil)
    await expect(page.locator(".todo-list img, .todo-list b")).to_have_count(0)

    await page.locator(".new-list").fill(evil)
    await page.locator(".new-list").press("Enter")
    await expect(page.locator(".list-title")).to_have_text(evil)
    await expect(page.locator(".lists .list-name").nth(1)).to_have_text(evil)
    await expect(page.locator("img, b")).to_have_count(0)
    assert await page.evaluate("window.pwned") is None


async def test_no_content_security_policy_violations(page: Page) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    await page.reload()  # with the listener in place from the first byte
    await add_todos(page, "styled and scripted")
    await todo_items(page).first.locator(".toggle").check()
    await settled(page)
    # The stylesheet applied (a CSP block would leave the browser's default styles).
    await expect(page.locator(".todoapp")).to_have_css("border-radius", "6px")
    assert violations == []


async def test_security_headers_on_pages_and_api(live_client: httpx.AsyncClient) -> None:
    for path in ["/", "/lists/1"]:
        response = await live_client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-cache"
    api = await live_client.get("/api/lists")
    assert api.headers["x-content-type-options"] == "nosniff"


async def test_index_html_has_no_inline_script_or_style(live_client: httpx.AsyncClient) -> None:
    html = (await live_client.get("/")).text
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert "<style" not in html
    assert " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers


async def test_static_files_have_types_and_cache_validators(
    live_client: httpx.AsyncClient,
) -> None:
    html = (await live_client.get("/")).text
    assets = sorted(set(re.findall(r'(?:src|href)="(/static/[^"#]+)', html)))
    assert "/static/js/main.js" in assets
    assert "/static/css/app.css" in assets
    assert "/static/icons.svg" in assets
    expected = {
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".svg": "image/svg+xml",
    }
    for path in assets:
        response = await live_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == expected[Path(path).suffix], path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-cache"
        etag = response.headers["etag"]
        again = await live_client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
    missing = await live_client.get("/static/js/nope.js")
    assert missing.status_code == 404
    outside = await live_client.get("/static/../backend/web.py")
    assert outside.status_code == 404
