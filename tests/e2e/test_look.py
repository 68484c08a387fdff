"""The look: dark mode (system preference, remembered toggle), WCAG AA contrast measured in
both themes, round checkboxes with a focus ring, SVG icons, 44px touch targets, long names
that never squeeze the todo list, the page for an unknown address, and the README
screenshots (light, dark, mobile)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from .conftest import (
    CHROMIUM_ARGS,
    TODO_ITEM,
    add_todos,
    api_request,
    open_app,
    refuse,
    settled,
    todo_items,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"

# For every visible text: its colour, the colour behind it (backgrounds blended up the
# tree, opacity included), the contrast ratio (WCAG 2.x relative luminance) and the ratio
# it needs (4.5:1, or 3:1 for large text). Disabled controls are exempt, as in WCAG.
CONTRAST = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg.a > 0) layers.push(bg);
      if (bg && bg.a === 1) break;
    }
    const white = { r: 255, g: 255, b: 255, a: 1 };
    return layers.reverse().reduce((acc, layer) => over(layer, acc), white);
  };
  const opacity = (el) => {
    let value = 1;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      value *= Number(getComputedStyle(node).opacity);
    }
    return value;
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && opacity(el) > 0;
  };
  const disabled = (el) => el.closest(':disabled, [aria-disabled="true"], .pending');
  const results = [];
  const check = (el, color, what) => {
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const bg = background(el);
    const fg = over({ ...color, a: color.a * opacity(el) }, bg);
    results.push({
      what, text: (el.textContent || el.placeholder || '').trim().slice(0, 40),
      ratio: Math.round(ratio(fg, bg) * 100) / 100, needs: large ? 3 : 4.5,
    });
  };
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || disabled(el)) continue;
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (ownText) check(el, parse(getComputedStyle(el).color), el.className || el.tagName);
    if (el.matches('input, textarea') && el.placeholder && !el.value) {
      check(el, parse(getComputedStyle(el, '::placeholder').color), 'placeholder');
    }
    if (el.matches('input[type=date]')) check(el, parse(getComputedStyle(el).color), 'date');
  }
  return results;
}
"""

# Non-text contrast (WCAG 1.4.11, 3:1): the controls' borders, the focus ring, the check.
UI_COLOURS = """
() => {
  const s = getComputedStyle(document.documentElement);
  return ['--control', '--accent', '--check', '--card', '--bg'].reduce(
    (o, v) => ({ ...o, [v]: s.getPropertyValue(v).trim() }), {});
}
"""


def hex_luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted([hex_luminance(a), hex_luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


async def themed_context(
    browser: Browser, live_server: str, scheme: str, **options: Any
) -> BrowserContext:
    options.setdefault("viewport", {"width": 1024, "height": 700})
    context = await browser.new_context(base_url=live_server, color_scheme=scheme, **options)
    context.set_default_timeout(10_000)
    return context


async def everything_on_screen(page: Page, client: httpx.AsyncClient) -> None:
    """A page showing each kind of text: lists, todos active, done, overdue, with notes, an
    opened todo, marks of a search, the error banner, the undo notice."""
    (await client.post("/api/lists", json={"name": "Groceries"})).raise_for_status()
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    for fields in [
        {"title": "Water the plants", "due": yesterday},
        {"title": "Book tickets", "completed": True},
        {"title": "Call the dentist", "notes": "Ask about Tuesday"},
        {"title": "Gather receipts", "due": "2031-01-01"},
    ]:
        (await client.post("/api/todos", json=fields)).raise_for_status()
    await open_app(page, "/?q=water")
    await expect(page.locator(".todo-list mark").first).to_be_visible()
    await page.goto("/")
    await open_app(page)
    await todo_items(page).nth(2).locator(".open").click()
    await todo_items(page).nth(3).hover()
    async with page.expect_response(lambda r: r.request.method == "DELETE"):
        await todo_items(page).nth(3).locator(".destroy").click()
    await refuse(page, api_request("PATCH", TODO_ITEM), status=500, detail="Refused.")
    await todo_items(page).first.locator(".toggle").click()
    await expect(page.locator(".notice")).to_be_visible()
    await expect(page.locator(".undo")).to_be_visible()


async def low_contrast(page: Page) -> list[dict]:
    return [r for r in await page.evaluate(CONTRAST) if r["ratio"] < r["needs"]]


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_both_themes_pass_wcag_aa_contrast(
    browser: Browser, live_server: str, live_client: httpx.AsyncClient, scheme: str
) -> None:
    context = await themed_context(browser, live_server, scheme)
    try:
        page = await context.new_page()
        await everything_on_screen(page, live_client)
        await expect(page.locator("html")).to_have_attribute("data-theme", scheme)
        measured = await page.evaluate(CONTRAST)
        kinds = {r["what"] for r in measured}
        for kind in ["list-name", "undo-text", "placeholder", "due-text", "date"]:
            assert any(kind in k for k in kinds), f"{kind} was not measured: {kinds}"
        assert [r for r in measured if r["ratio"] < r["needs"]] == []

        await page.goto("/?q=water")  # the marks of a search
        await expect(page.locator(".todo-list mark").first).to_be_visible()
        assert await low_contrast(page) == []
        await page.keyboard.press("Escape")
        await page.locator(".list-title").click()
        await page.keyboard.press("?")  # the help dialog
        await expect(page.locator("dialog.help")).to_be_visible()
        assert await low_contrast(page) == []

        colours = await page.evaluate(UI_COLOURS)
        for part in ["--control", "--accent", "--check"]:
            for behind in ["--card", "--bg"]:
                ratio = contrast(colours[part], colours[behind])
                assert ratio >= 3, f"{scheme}: {part} on {behind} is {ratio:.2f}:1"
    finally:
        await context.close()


async def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(
    browser: Browser, live_server: str, live_client: httpx.AsyncClient
) -> None:
    context = await themed_context(browser, live_server, "dark")
    try:
        page = await open_app(await context.new_page())
        html = page.locator("html")
        await expect(html).to_have_attribute("data-theme", "dark")
        await expect(page.locator("body")).to_have_css("background-color", "rgb(18, 19, 22)")
        toggle = page.get_by_role("button", name="Dark theme")
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await toggle.click()
        await expect(html).to_have_attribute("data-theme", "light")
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        await page.reload()  # the choice wins over the system's preference
        await expect(html).to_have_attribute("data-theme", "light")
        await expect(page.locator("body")).to_have_css("background-color", "rgb(243, 243, 245)")
        await page.emulate_media(color_scheme="light")
        await page.emulate_media(color_scheme="dark")
        await expect(html).to_have_attribute("data-theme", "light")
    finally:
        await context.close()
    # Without a choice the page follows the system, also when it changes.
    context = await themed_context(browser, live_server, "light")
    try:
        page = await open_app(await context.new_page())
        await expect(page.locator("html")).to_have_attribute("data-theme", "light")
        await page.emulate_media(color_scheme="dark")
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await expect(page.get_by_role("button", name="Dark theme")).to_have_attribute(
            "aria-pressed", "true"
        )
    finally:
        await context.close()


async def test_round_checkboxes_with_a_clear_focus_ring(page: Page) -> None:
    await add_todos(page, "round")
    toggle = todo_items(page).first.locator(".toggle")
    await expect(toggle).to_have_css("border-radius", "50%")
    box = await toggle.bounding_box()
    assert box is not None and box["width"] == box["height"] >= 44
    await page.locator(".toggle-all").focus()
    await page.keyboard.press("Tab")  # keyboard focus: the ring shows
    await expect(toggle).to_be_focused()
    await expect(toggle).to_have_css("outline-style", "solid")
    await expect(toggle).to_have_css("outline-width", "3px")
    await toggle.press("Space")
    await expect(toggle).to_be_checked()
    image = await toggle.evaluate("el => getComputedStyle(el).backgroundImage")
    assert image.startswith('url("data:image/svg+xml'), image  # the tick


async def test_icons_are_inline_svg_not_characters(page: Page) -> None:
    await add_todos(page, "iconic")
    for button, icon in [
        (todo_items(page).first.locator(".destroy"), "/static/icons.svg#icon-x"),
        (page.locator(".lists .rename-list"), "/static/icons.svg#icon-pencil"),
        (page.locator(".lists .delete-list"), "/static/icons.svg#icon-trash"),
    ]:
        await expect(button.locator("svg use")).to_have_attribute("href", icon)
    drawn = await page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap((el) => [
             el.matches('script, style') ? '' : [...el.childNodes]
               .filter((n) => n.nodeType === 3).map((n) => n.textContent).join(''),
             getComputedStyle(el, '::before').content, getComputedStyle(el, '::after').content,
           ]).join('')"""
    )
    assert "\u270e" not in drawn and "\u00d7" not in drawn  # the old pencil and times sign


async def test_touch_targets_are_at_least_44px(
    browser: Browser, live_server: str, live_client: httpx.AsyncClient
) -> None:
    (await live_client.post("/api/lists", json={"name": "Errands"})).raise_for_status()
    (
        await live_client.post("/api/todos", json={"title": "touch me", "due": "2031-01-01"})
    ).raise_for_status()
    context = await browser.new_context(
        base_url=live_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        page = await open_app(await context.new_page())
        await page.get_by_role("button", name="Lists").tap()
        await todo_items(page).first.locator(".open").tap()
        small = await page.evaluate(
            """() => [...document.querySelectorAll(
                 'button, a[href], input, textarea, [tabindex="0"]')]
               .map((el) => el.closest('label') || el)
               .filter((el) => el.getBoundingClientRect().width > 0)
               .map((el) => {
                 const box = el.getBoundingClientRect();
                 return { el: el.className || el.tagName, w: box.width, h: box.height };
               })
               .filter((t) => t.w < 44 || t.h < 44)"""
        )
        assert small == [], small
    finally:
        await context.close()


LONG = "A list with a very long name " * 7  # 203 characters, cut to 200 by the form


@pytest.mark.parametrize("width", [1280, 360])
async def test_long_names_are_cut_and_never_squeeze_the_todo_list(
    browser: Browser, live_server: str, live_client: httpx.AsyncClient, width: int
) -> None:
    name = LONG[:200]
    created = await live_client.post("/api/lists", json={"name": name})
    list_id = created.json()["id"]
    (
        await live_client.post("/api/todos", json={"title": name, "list_id": list_id})
    ).raise_for_status()
    context = await browser.new_context(
        base_url=live_server, viewport={"width": width, "height": 800}
    )
    try:
        page = await open_app(await context.new_page(), f"/lists/{list_id}")
        card = await page.locator(".todoapp").bounding_box()
        assert card is not None
        assert card["width"] >= (600 if width == 1280 else 330), card
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        shown = [page.locator(".list-title"), todo_items(page).first.locator("label")]
        if width == 1280:  # the sidebar is a menu on small screens
            shown.append(page.locator(".lists li.current .list-name"))
        for text in shown:
            await expect(text).to_have_css("text-overflow", "ellipsis")
            assert await text.evaluate("el => el.scrollWidth > el.clientWidth"), "not cut"
        # The whole name is one hover away.
        await expect(page.locator(".list-title")).to_have_attribute("title", name)
    finally:
        await context.close()


async def test_an_unknown_address_is_a_page_with_a_way_back(page: Page) -> None:
    response = await page.goto("/no/such/page")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="There is nothing here")).to_be_visible()
    await page.get_by_role("link", name="Go to your lists").click()
    await expect(page.locator(".todoapp")).to_have_attribute("aria-busy", "false")
    await expect(page.locator(".list-title")).to_have_text("Inbox")


# --- the README's screenshots ---------------------------------------------------------

SCREENSHOT_DAY = dt.datetime(2031, 3, 14, 9, 30)  # a fixed "today": the same pixels each run


@pytest.fixture(scope="module")
async def steady_browser(browser: Browser, chromium: str) -> AsyncIterator[Browser]:
    """A Chromium that rasterises on one thread, in whole frames: the same pixels on every
    run (with several raster threads, anti-aliased edges came out a shade apart)."""
    steady = await browser.browser_type.launch(
        executable_path=chromium,
        args=[*CHROMIUM_ARGS, "--num-raster-threads=1", "--disable-partial-raster"],
    )
    yield steady
    await steady.close()


async def screenshot_data(client: httpx.AsyncClient) -> None:
    for name in ["Groceries", "Work"]:
        (await client.post("/api/lists", json={"name": name})).raise_for_status()
    for title in ["Milk", "Bread"]:
        await client.post("/api/todos", json={"title": title, "list_id": 2})
    for fields in [
        {"title": "Water the plants", "due": "2031-03-12"},
        {"title": "Book train tickets", "completed": True, "due": "2031-03-10"},
        {"title": "Call the dentist", "due": "2031-03-14", "notes": "Ask about Tuesday."},
        {"title": "Read chapter 4", "due": "2031-03-20"},
        {"title": "Plan the garden"},
    ]:
        (await client.post("/api/todos", json=fields)).raise_for_status()


async def shoot(page: Page, name: str, open_index: int | None = None) -> None:
    await page.clock.set_fixed_time(SCREENSHOT_DAY)
    await open_app(page)
    if open_index is not None:
        await todo_items(page).nth(open_index).locator(".open").click()
    await settled(page)
    await page.evaluate("document.activeElement.blur()")
    await page.mouse.move(0, 0)
    # Transitions finished: the same pixels on every run, so the PNG only changes with the UI.
    path = DOCS / name
    await page.screenshot(path=str(path), animations="disabled")
    assert path.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("name", "scheme", "viewport", "open_index"),
    [
        ("screenshot.png", "light", {"width": 1024, "height": 940}, 2),
        ("screenshot-dark.png", "dark", {"width": 1024, "height": 940}, 2),
        ("screenshot-mobile.png", "light", {"width": 360, "height": 860}, None),
    ],
)
async def test_screenshots_for_the_readme(
    steady_browser: Browser,
    live_server: str,
    live_client: httpx.AsyncClient,
    name: str,
    scheme: str,
    viewport: dict,
    open_index: int | None,
) -> None:
    await screenshot_data(live_client)
    mobile = viewport["width"] < 720
    context = await themed_context(
        steady_browser,
        live_server,
        scheme,
        viewport=viewport,
        locale="en-GB",
        timezone_id="Europe/London",
        is_mobile=mobile,
        has_touch=mobile,
    )
    try:
        await shoot(await context.new_page(), name, open_index)
    finally:
        await context.close()
