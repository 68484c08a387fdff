"""Cross-site request forgery: a cookie-authenticated unsafe request must come from the
app's own origin (or a CORS_ORIGINS entry); bearer-token requests need no such check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from asgi_lifespan import LifespanManager

from backend import create_app
from backend.runtime.config import Settings

from .users import ALICE, ALICE_PASSWORD, AUTH_HEADERS, SAME_ORIGIN

EVIL = "https://evil.example"


@pytest.fixture
async def browser(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    """Signed in with the session cookie, as the web app is."""
    body = {"username": ALICE, "password": ALICE_PASSWORD}
    assert (await anonymous.post("/api/auth/login", json=body)).status_code == 200
    return anonymous


async def test_cross_site_cookie_post_is_refused_and_changes_nothing(
    browser: httpx.AsyncClient,
) -> None:
    for headers in (
        {"Origin": EVIL},
        {"Referer": f"{EVIL}/page"},
        {},  # neither header: not provably ours
        {"Origin": "null"},  # sandboxed frames, data: URLs
        {"Origin": "http://localhost.evil.example"},
    ):
        response = await browser.post("/api/todos", json={"title": "forged"}, headers=headers)
        assert response.status_code == 403, headers
        assert response.json()["type"] == "urn:todoapp:problem:csrf"
    for method, path in [
        ("DELETE", "/api/todos"),
        ("PATCH", "/api/lists/1"),
        ("DELETE", "/api/me/sessions"),
    ]:
        response = await browser.request(method, path, json={"name": "x"}, headers={"Origin": EVIL})
        assert response.status_code == 403, (method, path)
    assert (await browser.get("/api/todos")).json() == []  # reads need no check
    assert (await browser.get("/api/me")).status_code == 200  # still signed in


async def test_same_origin_cookie_post_is_accepted(browser: httpx.AsyncClient) -> None:
    for headers in (SAME_ORIGIN, {"Referer": "http://localhost/lists/1"}):
        response = await browser.post("/api/todos", json={"title": "mine"}, headers=headers)
        assert response.status_code == 201, headers


async def test_bearer_requests_need_no_origin(anonymous: httpx.AsyncClient) -> None:
    headers = {**AUTH_HEADERS, "Origin": EVIL}  # a script may send anything; no cookie rides
    response = await anonymous.post("/api/todos", json={"title": "scripted"}, headers=headers)
    assert response.status_code == 201


async def test_cross_site_login_is_refused(anonymous: httpx.AsyncClient) -> None:
    """Login CSRF: another site must not sign the browser in (to an attacker's account)."""
    body = {"username": ALICE, "password": ALICE_PASSWORD}
    response = await anonymous.post("/api/auth/login", json=body, headers={"Origin": EVIL})
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


@pytest.fixture
async def cors_browser(settings: Settings, clean_db: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(replace(settings, cors_origins=("https://app.example",)))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            body = {"username": ALICE, "password": ALICE_PASSWORD}
            assert (await c.post("/api/auth/login", json=body)).status_code == 200
            yield c


async def test_a_cors_origin_counts_as_our_own(cors_browser: httpx.AsyncClient) -> None:
    ok = await cors_browser.post(
        "/api/todos", json={"title": "x"}, headers={"Origin": "https://app.example"}
    )
    assert ok.status_code == 201
    refused = await cors_browser.post("/api/todos", json={"title": "x"}, headers={"Origin": EVIL})
    assert refused.status_code == 403
