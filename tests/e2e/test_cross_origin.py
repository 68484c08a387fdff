"""A browser app on another origin uses the API as the README promises (CORS_ORIGINS set):
conditional writes, safe retries and tracing headers pass Chromium's real preflight, and
the headers it needs are readable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page

from ..servers import todoapp

# Run in the page: each call is a cross-origin fetch with the headers a real client sends.
SCRIPT = """async (api) => {
  const seen = (r) => ({status: r.status, etag: r.headers.get("ETag"),
    location: r.headers.get("Location"), requestId: r.headers.get("X-Request-ID"),
    replayed: r.headers.get("Idempotent-Replayed")});
  const post = () => fetch(api + "/api/todos", {method: "POST",
    headers: {"Content-Type": "application/json", "Idempotency-Key": "cross-origin-1",
              "X-Request-ID": "from-the-browser"},
    body: JSON.stringify({title: "from another origin"})});
  const created = seen(await post());
  const replayed = seen(await post());
  const patched = seen(await fetch(created.location, {method: "PATCH",
    headers: {"Content-Type": "application/json", "If-Match": created.etag},
    body: JSON.stringify({completed: true})}));
  const stale = seen(await fetch(created.location, {method: "PATCH",
    headers: {"Content-Type": "application/json", "If-Match": created.etag},
    body: JSON.stringify({completed: false})}));
  const fresh = seen(await fetch(created.location, {cache: "no-store",
    headers: {"If-None-Match": patched.etag}}));
  return {created, replayed, patched, stale, fresh};
}"""


@pytest.fixture
async def foreign_page(browser: Browser) -> AsyncIterator[Page]:
    """A blank page from another origin: http://localhost:<its own port>, where the API is
    http://127.0.0.1:<port>. A real loopback server, so Chromium's local-network rules see
    both in the same address space."""

    async def blank(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b"<!doctype html><title>another app</title>"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    site = await asyncio.start_server(blank, "127.0.0.1", 0)
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"http://localhost:{site.sockets[0].getsockname()[1]}/")
    yield page
    await context.close()
    site.close()
    await site.wait_closed()


async def test_a_page_on_another_origin_uses_etags_retries_and_request_ids(
    foreign_page: Page, database_url: str, clean_db: object
) -> None:
    origin = await foreign_page.evaluate("location.origin")
    with todoapp(database_url, CORS_ORIGINS=origin) as api:
        result = await foreign_page.evaluate(SCRIPT, api)
    created, replayed = result["created"], result["replayed"]
    assert created["status"] == 201
    assert created["location"].startswith(api + "/api/todos/")
    assert created["etag"] == '"1"'
    assert created["requestId"] == "from-the-browser"
    assert replayed["status"] == 201
    assert replayed["replayed"] == "true"
    assert replayed["location"] == created["location"]
    assert result["patched"]["status"] == 200
    assert result["stale"]["status"] == 412
    assert result["fresh"]["status"] == 304
